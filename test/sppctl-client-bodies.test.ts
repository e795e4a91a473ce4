import test from 'ava';
import { isRejected, sppCtlFailure } from '../src/agent/io';
import { SppCtlClient, SppCtlError, type SppCtlTransport } from '../src/sppctl/client';

// bottle's default error page, as the real spp-ctl sends it for an exception
const BOTTLE_500 = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head><title>Error: 500 Internal Server Error</title></head>
<body><h1>Error: 500 Internal Server Error</h1><p>Sorry, the requested URL <tt>'http://127.0.0.1:7777/v1/vfs/1'</tt> caused an error:</p><pre>Internal Server Error</pre></body></html>`;

const answering =
  (status: number, body: string, contentType: string): SppCtlTransport =>
  async () => ({ status, body, contentType });

test("a 500 with an HTML body and a 400 with a text body are both typed errors carrying spp-ctl's text", async (t) => {
  const html = await t.throwsAsync(new SppCtlClient(answering(500, BOTTLE_500, 'text/html')).vfStatus(1));
  t.true(html instanceof SppCtlError);
  t.is((html as SppCtlError).status, 500);
  t.is((html as SppCtlError).kind, 'http');
  t.regex(html!.message, /^GET \/v1\/vfs\/1: 500 .*Internal Server Error/);
  t.false(html!.message.includes('\n'), 'one line in logs');
  t.false(isRejected(html), 'a 500 is retried, not treated as spp_vf refusing the command');

  const text = await t.throwsAsync(
    new SppCtlClient(answering(400, 'command error: bad value(port)', 'text/plain')).send({
      op: 'classifier_add',
      secId: 1,
      mac: 'fa:16:3e:00:00:01',
      port: 'ring:0',
    }),
  );
  t.is(sppCtlFailure(text).status, 400);
  t.true(isRejected(text), 'a 400 means spp_vf rejected it: re-read and repair');
  t.regex(text!.message, /PUT \/v1\/vfs\/1\/classifier_table: 400 command error: bad value\(port\)/);
});
