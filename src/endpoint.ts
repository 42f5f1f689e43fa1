/** Driver options for a database, with `engine` naming which: `{ engine: 'postgres', host: … }`. */
export interface ConnectionOptions {
  readonly engine: string
  readonly [option: string]: unknown
}

/**
 * Where rows come from or go to: a URL (`sqlite:data/app.db`, `postgres://…`, `mysql://…`),
 * driver options, or a factory of ready instances (called once per connection the run needs).
 */
export type Endpoint<T> = string | ConnectionOptions | (() => T)
