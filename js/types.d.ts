/** An NPS survey in the page. */
export class NpsWidget {
  private constructor();
  /** Validates `config` and starts the widget; throws an `Error` naming the bad key. */
  static create(config: NpsConfig): NpsWidget;
  /**
   * Used by the script-tag loader: a config made of the tag's `data-*` attributes, all text
   * (`"0.5"` is read as a number, `"true"` as a boolean).
   */
  static fromAttributes(config: Record<string, unknown>): NpsWidget;
  /** Shows the card now. `{ force: true }` skips targeting and throttling (previews). */
  show(options?: { force?: boolean }): void;
  /** Hides the card; an answer already given stands, nothing counts as a dismissal. */
  hide(): void;
  /** Removes every node, listener and timer the widget added. */
  destroy(): void;
  /** Sets who is answering: `{ id, account_id, email, hash, traits }`. */
  identify(user: NpsUser): void;
  /** Records that this person did `name`; `trigger: "event"` counts the config's `events`. */
  track(name: string): void;
  /** Listens to `ready`, `shown`, `score`, `complete`, `dismiss`, `referral` or `error`. */
  on<K extends keyof NpsEventMap>(event: K, listener: (detail: NpsEventMap[K]) => void): void;
  /** Stops listening. */
  off<K extends keyof NpsEventMap>(event: K, listener: (detail: NpsEventMap[K]) => void): void;
}


/**
 * Until when the person of `config` will not be asked by its survey, or null when they may be
 * now (or something waits to be sent, or `force`, or `?nps_preview=1`). Read from what earlier
 * page views wrote (the `q=` of localStorage `nps-widget:memory:<survey>:<user>`), before
 * `init()` fetches the wasm: `if (!quiet(config)) { await init(); NpsWidget.create(config); }`.
 */
export function quiet(config: NpsConfig): Date | null;

/** Configuration accepted by `NpsWidget.create` and `data-config` (snake_case keys). */
export interface NpsConfig {
  /** Where responses are POSTed (absolute or relative URL). Required. */
  endpoint: string;
  /** Fills `{product}` in every string. Default "us". */
  product?: string;
  /** Keeps surveys apart. Default "default". */
  survey_id?: string;
  /** Locale tag; default `<html lang>`, then `navigator.language`. */
  locale?: string;
  /** Default "bottom-right". "inline" needs `target`. */
  position?: "bottom-right" | "bottom-left" | "modal" | "inline";
  /** CSS selector of the element an inline card goes into. */
  target?: string;
  /** Default "auto" (prefers-color-scheme). */
  theme?: "auto" | "light" | "dark";
  /** CSS values for the card's custom properties. */
  style?: Partial<Record<"accent" | "background" | "text" | "muted" | "radius" | "font" | "z_index", string | number>>;
  /**
   * Overrides of the built-in strings; `{product}` is filled in. A locale tag as key (`fr`,
   * `pt-BR`, `he`) holds overrides for that locale only, and adds a language the widget does not
   * ship: `{ he: { question: "…", … } }`.
   */
  strings?: NpsStrings & { [locale: string]: NpsStrings | string | undefined };
  /** Who is asked. */
  user?: NpsUser;
  /** Extra request headers, e.g. Authorization. */
  headers?: Record<string, string>;
  /** fetch credentials mode. Default "omit". */
  credentials?: "omit" | "same-origin" | "include";
  /** Per-request timeout. Default 10000. */
  timeout_ms?: number;
  /** When the card appears without `show()`. Default "load". */
  trigger?: "load" | "page_views" | "scroll" | "exit_intent" | "event" | "manual";
  /** Wait after the trigger, in ms. Default 0. */
  delay_ms?: number;
  /** For trigger "page_views". Default 3. */
  page_views?: number;
  /** For trigger "scroll", 0–1. Default 0.5. */
  scroll_depth?: number;
  /** For trigger "event" (required there): the names `track(name)` counts. */
  events?: string[];
  /** For trigger "event": how many of `events` in all, 1–1000. Default 1. */
  event_count?: number;
  /** Glob patterns of `location.pathname` (`*` across `/`; `!` excludes; `http(s)://…` matches origin + path). Default: every page. */
  pages?: string[];
  /** Conditions on `user.traits`, all of which must hold. */
  audience?: NpsCondition[];
  /** Days this browser must have known the person before they are asked. Default 0. */
  first_seen_days?: number;
  /** Days after any survey of the site asked a person before another may. Default 7. */
  wait_days_between_surveys?: number;
  /** Share of users ever asked, 0–1. Default 1. */
  sample_rate?: number;
  /** Days before asking someone who answered again. Default 90. */
  recontact_days?: number;
  /** Days before asking someone who closed the card again. Default 14. */
  dismiss_cooldown_days?: number;
  /** Ignore targeting and throttling (previews). Default false. */
  force?: boolean;
  /** Show the detractor's contact consent box. Default true. */
  contact_consent?: boolean;
  /** Referral call to action in the thanks: promoters only by default, passives too with
   *  `segments: ["promoter", "passive"]`. */
  referral?: { url: string; text?: string; segments?: ("promoter" | "passive")[] };
  /** Keep the query string in `context.url`. Default false. */
  include_query?: boolean;
  /** A score already chosen, 0–10 (a personal link's email button): the card opens on its follow-up and delivers the partial. */
  score?: number;
  /** Where the survey the team manages is served (`/v1/surveys/<id>/definition`): its keys override these but for endpoint, user, headers, credentials, force, survey_url and debug. */
  survey_url?: string;
  /** Say on the console (`console.info`) which rule held the card back, or what showed it (also `?nps_debug=1`); the script-tag loader then loads even when it could keep quiet. Default false. */
  debug?: boolean;
}

type NpsScalar = string | number | boolean;

/** One `audience` condition: the trait and exactly one operator. */
export type NpsCondition = { trait: string } & (
  | { is: NpsScalar }
  | { is_not: NpsScalar }
  | { in: NpsScalar[] }
  | { contains: string }
  | { at_least: number }
  | { at_most: number }
  /** The trait is a date: RFC 3339 text or ms since the epoch. */
  | { older_than_days: number }
  | { newer_than_days: number }
  | { exists: boolean }
);

/** Who answers; every field optional. */
export interface NpsUser {
  id?: string;
  account_id?: string;
  email?: string;
  /** HMAC-SHA256 (lower-case hex) of `id + "\n" + (account_id ?? "")`, keyed by the
   * collector's identity secret, computed by the site's server. */
  hash?: string;
  traits?: Record<string, string | number | boolean>;
}

/** A response, schema version 1 (see schema/response.v1.json). */
export interface NpsResponse {
  schema: 1;
  id: string;
  survey_id: string;
  score: number | null;
  segment: "promoter" | "passive" | "detractor" | "silent";
  silent_reason?: "dismissed" | "ignored";
  comment: string | null;
  contact_consent: boolean | null;
  referral_clicked?: boolean;
  state: "partial" | "complete";
  user: NpsUser;
  context: { url: string; locale: string; referrer?: string };
  shown_at: string;
  answered_at: string | null;
  completed_at: string | null;
  /** The version of the survey's definition the card was shown from (`survey_url`). */
  survey_version?: number;
}

/** Event names and what their listeners receive. */
export interface NpsEventMap {
  ready: { survey_id: string };
  shown: { id: string; survey_id: string };
  score: NpsResponse;
  complete: NpsResponse;
  dismiss: NpsResponse;
  referral: NpsResponse;
  error: { message: string; status?: number };
}

/** Every text the card shows, by config key. */
export type NpsStrings = Partial<Record<
  | "question" | "low_label" | "high_label" | "close"
  | "promoter_prompt" | "passive_prompt" | "detractor_prompt"
  | "placeholder" | "promoter_placeholder" | "passive_placeholder" | "detractor_placeholder"
  | "consent" | "submit" | "skip" | "promoter_thanks" | "passive_thanks" | "detractor_thanks" | "referral",
  string>>;
