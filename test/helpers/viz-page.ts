/**
 * Checks on the visualizer page in a real browser: where its text lands
 * (bounding rectangles as Chromium lays them out), and the rows it lists.
 */
import type { Page } from 'playwright-core';

export interface Overlap {
  readonly svg: string;
  readonly a: string;
  readonly b: string;
}

/**
 * Pairs of text boxes (and of node boxes) that intersect, in every SVG
 * matching `selector`: the rule that no two labels or nodes of a diagram
 * overlap, measured on the rendered page.
 */
export function overlaps(page: Page, selector: string): Promise<Overlap[]> {
  return page.evaluate((sel) => {
    const out: Array<{ svg: string; a: string; b: string }> = [];
    const hit = (a: DOMRect, b: DOMRect): boolean => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    document.querySelectorAll(sel).forEach((svg, n) => {
      const name = `${sel}#${n} ${svg.getAttribute('data-machine') ?? svg.closest('[data-sec-id]')?.getAttribute('data-sec-id') ?? ''}`;
      const check = (els: Element[]): void => {
        const boxes = els.map((el) => ({ el, r: el.getBoundingClientRect() })).filter((x) => x.r.width > 0);
        for (let i = 0; i < boxes.length; i++)
          for (let j = i + 1; j < boxes.length; j++)
            if (hit(boxes[i]!.r, boxes[j]!.r)) out.push({ svg: name, a: boxes[i]!.el.textContent ?? '', b: boxes[j]!.el.textContent ?? '' });
      };
      check(Array.from(svg.querySelectorAll('text')));
      // node boxes: the spp_vf drawing's nodes and the machines' top-level states
      check(Array.from(svg.querySelectorAll('g.node > rect, g.box > rect.frame')));
      // a machine's edge labels against its state boxes
      check(Array.from(svg.querySelectorAll('text.edge-label, g.box > rect.frame')));
    });
    return out;
  }, selector);
}

/** Port ids in the order the ports list shows them. */
export function listedPorts(page: Page): Promise<string[]> {
  return page.locator('#ports-table tbody tr[data-port-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-port-id') ?? ''));
}
