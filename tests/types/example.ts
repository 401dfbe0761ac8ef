// Compiled with `tsc --noEmit --strict` by `cargo xtask test` against dist/nps_widget.d.ts:
// the documented ES-module use must type-check, and misuse must not (see the @ts-expect-error
// lines, which fail the build if they ever stop being errors).
import init, { NpsWidget, quiet, type NpsConfig, type NpsEventMap } from "../../dist/nps_widget.js";

/** The quiet path: the wasm is fetched only when this person may be asked. */
export async function startUnlessQuiet(config: NpsConfig): Promise<NpsWidget | Date> {
  const until: Date | null = quiet(config);
  if (until) {
    return until;
  }
  await init();
  return NpsWidget.create({ ...config, debug: true });
}

export async function start(): Promise<NpsWidget> {
  await init();
  const config: NpsConfig = {
    endpoint: "/v1/responses",
    product: "Acme",
    trigger: "manual",
    user: { id: "u_123", account_id: "acct_42", traits: { plan: "pro", seats: 12 } },
    strings: { question: "Would you recommend {product}?", fr: { question: "Recommanderiez-vous {product} ?" } },
    referral: { url: "https://reviews.example/acme" },
  };
  const nps = NpsWidget.create(config);
  nps.on("complete", (detail: NpsEventMap["complete"]) => console.log(detail.segment, detail.comment));
  nps.identify({ id: "u_456", email: "ana@example.com" });
  nps.show();
  nps.show({ force: true });
  // @ts-expect-error: trigger must be one of the documented values
  NpsWidget.create({ endpoint: "/x", trigger: "sometimes" });
  // @ts-expect-error: the endpoint is required
  NpsWidget.create({ product: "Acme" });
  // @ts-expect-error: not an event the widget sends
  nps.on("clicked", () => {});
  const inApp = NpsWidget.create({
    endpoint: "/v1/responses",
    trigger: "event",
    events: ["report_exported"],
    event_count: 2,
    pages: ["/app/*", "!/app/billing*"],
    audience: [{ trait: "plan", in: ["pro", "team"] }, { trait: "signed_up_at", older_than_days: 30 }],
    first_seen_days: 3,
    wait_days_between_surveys: 7,
  });
  inApp.track("report_exported");
  // @ts-expect-error: at_least takes a number
  NpsWidget.create({ endpoint: "/x", audience: [{ trait: "seats", at_least: "5" }] });
  return nps;
}
