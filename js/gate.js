// The quiet path's gate, read before anything is fetched: the script-tag loader's check, and
// `NpsWidget.quiet(config)` in the package. The widget writes it (src/dom/widget.rs,
// `remember`) whenever it concludes that a person will not be asked by a survey before a time:
// answered (recontact_days), closed the card (dismiss_cooldown_days), asked by another survey
// of the site (wait_days_between_surveys), not known for first_seen_days yet, outside the
// sample. It never reaches more than a day ahead, so a change of rules reaches everyone within
// a day.
//
// It is the `q=` field of what the widget remembers of a person and a survey,
// localStorage["nps-widget:memory:<survey id>:<user id>"] = "v=3;s=1;a=…;d=;q=<ms since the
// epoch>;e=…;f=…", an anonymous person's id being "-" (src/targeting.rs, `Memory`). Only own
// properties of the config are read: a page whose Object.prototype carries additions changes
// nothing.

/** `object[key]` when `object` is an object that has it as an own property. */
export const own = (object, key) =>
  Object.prototype.hasOwnProperty.call(Object(object), key) ? object[key] : undefined;

// `true`, or an attribute's "" / "true".
const on = (value) => value === true || value === '' || value === 'true';

/**
 * Until when (ms since the epoch) the person of `config` will not be asked by its survey; 0
 * when they may be asked now, when something waits in the outbox to be sent, when storage
 * cannot be read, and always for `force`, `?nps_preview=1` and `?nps_debug=1` (the widget
 * then says why it does not ask). `config` is a `create()` config
 * or the loader's config of `data-*` texts.
 */
export function quietUntil(config) {
  if (on(own(config, 'force')) || /[?&]nps_(preview|debug)=(1|true)(&|$)/.test(location.search)) {
    return 0;
  }
  try {
    // A survey the team manages (`survey_url`, the collector's /v1/surveys/<id>/definition):
    // the widget remembers it under that id.
    const managed = /\/surveys\/([a-z0-9_-]+)\/definition/.exec(own(config, 'survey_url'))?.[1];
    const survey = managed ?? own(config, 'survey_id') ?? 'default';
    const user = own(own(config, 'user'), 'id') ?? '-';
    const memory = localStorage.getItem('nps-widget:memory:' + survey + ':' + user);
    const until = +/;q=(\d+)/.exec(memory)?.[1] || 0;
    if (until <= Date.now()) {
      return 0;
    }
    // An answer not yet delivered is sent by the next widget that loads: load it.
    const outbox = 'nps-widget:outbox:' + survey + ':';
    for (let i = 0; i < localStorage.length; i++) {
      if (localStorage.key(i)?.startsWith(outbox)) {
        return 0;
      }
    }
    return until;
  } catch {
    return 0;
  }
}

/** Whether the config asks for the console's explanations (`debug`). */
export const debugOn = (config) => on(own(config, 'debug'));
