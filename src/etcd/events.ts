/** What the etcd layer delivers: a key's value with its revision, and one change of a key. */
export interface StoredValue {
  readonly value: string;
  readonly modRevision: number;
}

/** One change as the list-watch stream delivers it. */
export type KeyEvent =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly revision: number }
  | { readonly type: 'delete'; readonly key: string; readonly revision: number };
