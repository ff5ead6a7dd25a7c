import type { Api } from './api.ts';

export interface PageContext {
  readonly api: Api;
  readonly main: HTMLElement;
}

/** A page draws into ctx.main and returns what stops its watches and timers. */
export type Page = (ctx: PageContext, arg: string) => () => void;
