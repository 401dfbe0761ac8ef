//! `cargo xtask demo`: the widget built, the collector serving the demo page with a fresh
//! token, the demo page's survey (`www/demo-survey.json`) made and activated through the
//! collector's API, so what the card asks can be changed there and seen on reload, and a
//! sample B2B base sent through the same API (`seed`), so every view of the dashboard has
//! something to show on the first run; `--empty` starts without it.
//!
//! `cargo xtask demo-check`: the same seeding against a throwaway collector, checked through
//! the API (part of `cargo xtask test`).

use std::time::Instant;

use serde_json::Value;

use super::*;
use crate::bench::{scratch, spawn_collector};
use crate::seed::{self, Api, Seeded};
use crate::test::build_collector;

pub(crate) fn demo(extra: &[String]) -> Result {
    let empty = extra.iter().any(|a| a == "--empty");
    let mut args: Vec<String> = extra.iter().filter(|a| *a != "--empty").cloned().collect();
    // The passives' themes priced at the sample's own won referrals, unless set otherwise.
    let priced = args
        .iter()
        .any(|a| a == "--referral-value" || a.starts_with("--referral-value="))
        || env::var_os("NPS_REFERRAL_VALUE").is_some();
    if !empty && !priced {
        args.extend(["--referral-value".into(), seed::REFERRAL_VALUE.into()]);
    }
    dist(Check::Warn)?;
    let collector = build_collector()?;
    let root = root();
    let token = read_token()?;
    println!(
        "demo: open http://127.0.0.1:8080/#token={token}\n      dashboard (signed in as admin): http://127.0.0.1:8080/dashboard#token={token}\n      Ctrl-C stops it; answers are stored in nps.db"
    );
    let mut cmd = Command::new(collector);
    cmd.args(["--token", &token])
        .arg("--static")
        .arg(root.join("www"))
        .arg("--static")
        .arg(root.join("dist"))
        .args(&args);
    eprintln!("$ {cmd:?}");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting the collector: {e}"))?;
    let listen = args
        .iter()
        .position(|a| a == "--listen")
        .and_then(|i| args.get(i + 1))
        .map_or("127.0.0.1:8080", String::as_str);
    let base = format!("http://{listen}");
    let api = Api::new(&base, &token);
    let started = Instant::now();
    let seeded = api.wait().and_then(|()| {
        let survey = seed_survey(&api, Some((&base, &token)))?;
        if empty {
            return Ok(None);
        }
        seed::seed(&api, &survey, false).map(Some)
    });
    match seeded {
        Err(e) => {
            let _ = child.kill();
            return Err(e);
        }
        Ok(None) => println!("demo: no sample data (--empty)"),
        Ok(Some(seeded @ Seeded::Already)) => println!("demo: {seeded}"),
        Ok(Some(seeded)) => println!(
            "demo: {seeded}, in {:.1} s; `cargo xtask demo --empty` starts without them (on a new --db)",
            started.elapsed().as_secs_f64()
        ),
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the collector stopped: {status}"))
    }
}

/// Makes the demo page's survey and activates it; a survey the team already changed (an
/// earlier run on the same database) is left as it is. Its id. `hint`: the collector's
/// address and token, to print how to change the survey when it is made.
fn seed_survey(api: &Api, hint: Option<(&str, &str)>) -> Result<String> {
    let survey = fs::read_to_string(root().join("www/demo-survey.json"))
        .map_err(|e| format!("www/demo-survey.json: {e}"))?;
    let id = serde_json::from_str::<Value>(&survey)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .ok_or("www/demo-survey.json: no \"id\"")?;
    let (status, answer) = api.call(
        "POST",
        "/v1/surveys",
        Some(("application/json", survey.as_str())),
    )?;
    match status {
        201 => {
            api.expect(
                "PUT",
                &format!("/v1/surveys/{id}"),
                Some(("application/json", r#"{"status": "active"}"#)),
                &[200],
            )?;
            if let Some((base, token)) = hint {
                println!(
                    "demo: the survey \"{id}\" is made and active; change what it asks in the dashboard's Surveys\n      view and reload the demo page, or with\n      curl -X PUT {base}/v1/surveys/{id} -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\\n        -d '{{\"definition\": {{\"product\": \"Acme Analytics\", \"strings\": {{\"passive_prompt\": \"What one thing would make it a 10?\"}}}}}}'\n      and reload the page"
                );
            }
            Ok(id)
        }
        409 => Ok(id),
        status => Err(format!("POST /v1/surveys: {status} {answer}")),
    }
}

/// A fresh admin token for the demo's dashboard: 16 random bytes as hex (32 characters, over
/// the collector's 16-character minimum).
pub(crate) fn read_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .map_err(|e| format!("reading /dev/urandom for the demo token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `cargo xtask demo-check`: builds the collector, seeds the demo's sample into a throwaway
/// SQLite database as `cargo xtask demo` does (the rate limit on, as there), and checks
/// through the API that every figure of the dashboard has something real to show; then that a
/// second run changes nothing and that a run cut off half-way completes without doubling
/// anything.
pub(crate) fn check() -> Result {
    let collector = build_collector()?;
    let dir = scratch("nps-demo-check")?;
    let db = format!("sqlite://{}", dir.join("demo.db").display());
    let token = "demo-check-admin-token";
    let (url, server) = spawn_collector(
        &collector,
        &[
            "--listen",
            "127.0.0.1:0",
            "--db",
            &db,
            "--token",
            token,
            "--referral-value",
            seed::REFERRAL_VALUE,
        ],
    )?;
    let api = Api::new(&url, token);
    let result = check_on(&api);
    drop(server);
    let _ = fs::remove_dir_all(&dir);
    result
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result {
    if ok {
        Ok(())
    } else {
        Err(format!("demo-check: {}", what()))
    }
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

fn check_on(api: &Api) -> Result {
    api.wait()?;
    let started = Instant::now();
    let survey = seed_survey(api, None)?;
    let first = seed::seed(api, &survey, false)?;
    let took = started.elapsed().as_secs_f64();
    println!("demo-check: {first}, in {took:.1} s");
    let Seeded::Done {
        accounts: imported,
        responses,
        comments,
        ..
    } = first
    else {
        return Err("demo-check: a new database said it had the sample already".into());
    };
    ensure(took < 30.0, || format!("seeding took {took:.1} s"))?;
    ensure(
        comments * 5 >= responses && comments * 3 <= responses,
        || format!("{comments} of {responses} responses have a comment, not about a quarter"),
    )?;

    // The accounts: every record with its ARR, plan, owner, renewal and CRM link.
    let accounts = api.get("/v1/accounts?sort=arr&limit=1000")?;
    let recorded: Vec<&Value> = list(&accounts)
        .iter()
        .filter(|a| number(&a["arr"]) > 0.0)
        .collect();
    ensure(recorded.len() == imported, || {
        format!("{} accounts with ARR, {imported} imported", recorded.len())
    })?;
    for a in &recorded {
        for key in ["name", "plan", "owner", "renewal_on", "crm_url"] {
            ensure(a[key].is_string(), || format!("account without {key}: {a}"))?;
        }
    }
    for segment in ["promoter", "passive", "detractor", "silent"] {
        ensure(
            list(&accounts).iter().any(|a| a["segment"] == segment),
            || format!("no {segment} account"),
        )?;
    }
    let upsell = api.get("/v1/accounts?opportunity=upsell")?;
    ensure(!list(&upsell).is_empty(), || "no upsell account".into())?;

    // The money on the overview.
    let revenue = api.get("/v1/revenue")?;
    let coverage = number(&revenue["coverage"]);
    ensure(coverage > 0.0 && coverage < 1.0, || {
        format!("coverage {coverage}: some of the base should be unasked")
    })?;
    ensure(number(&revenue["at_risk_arr"]) > 0.0, || {
        format!("no ARR at risk: {revenue}")
    })?;
    ensure(revenue["weighted_nps"].is_number(), || {
        format!("no weighted NPS: {revenue}")
    })?;

    // An account's people by role, silent ones and references.
    let mut roles = std::collections::HashSet::new();
    let (mut silent, mut references) = (0, 0);
    for a in &recorded {
        let id = a["account_id"].as_str().unwrap_or_default();
        let people = api.get(&format!("/v1/accounts/{id}/people"))?;
        for p in list(&people) {
            if let Some(role) = p["role"].as_str() {
                roles.insert(role.to_owned());
            }
            silent += usize::from(p["silent"] == true);
            references += usize::from(p["reference"] == true);
        }
    }
    ensure(roles.len() == 3, || format!("roles {roles:?}"))?;
    ensure(silent > 0 && references > 0, || {
        format!("{silent} silent people, {references} references")
    })?;

    // The themes in money, the labels the comments were written for.
    let all = api.get("/v1/themes")?;
    let priced = list(&all["themes"])
        .iter()
        .filter(|t| number(&t["arr"]) > 0.0)
        .count();
    ensure(priced >= 3, || format!("{priced} themes with ARR: {all}"))?;
    for (segment, labels) in [
        ("promoter", ["support", "easy"].as_slice()),
        ("passive", ["integration", "export"].as_slice()),
        ("detractor", ["pric", "slow", "import"].as_slice()),
    ] {
        let found = api.get(&format!("/v1/themes?segment={segment}"))?;
        let themes = list(&found["themes"]);
        for label in labels {
            ensure(
                themes.iter().any(|t| {
                    t["theme"]
                        .as_str()
                        .is_some_and(|l| l.to_lowercase().starts_with(label))
                        && number(&t["arr"]) > 0.0
                }),
                || format!("no {segment} theme {label}… with ARR: {found}"),
            )?;
        }
        if segment == "passive" {
            ensure(
                themes.iter().any(|t| number(&t["referral_value"]) > 0.0),
                || format!("no passive theme with a referral value: {found}"),
            )?;
        }
    }

    // Follow-ups worked, the referral funnel to won deals, the notes on the trend.
    for status in ["contacted", "resolved", "referral_asked", "referred"] {
        let worked = api.get(&format!("/v1/responses?status={status}"))?;
        ensure(!list(&worked).is_empty(), || {
            format!("no follow-up {status}")
        })?;
    }
    let referrals = api.get("/v1/referrals")?;
    for status in ["referred", "opportunity", "won", "lost"] {
        ensure(
            list(&referrals).iter().any(|r| r["status"] == status),
            || format!("no referral {status}"),
        )?;
    }
    let funnel = api.get("/v1/referrals/summary")?;
    let promoters = &funnel["by_segment"]["promoter"];
    ensure(
        number(&promoters["won"]) >= 1.0 && number(&promoters["won_value"]) > 0.0,
        || format!("no won referral: {funnel}"),
    )?;
    let annotations = api.get("/v1/annotations")?;
    ensure(list(&annotations).len() == 2, || {
        format!("{} annotations", list(&annotations).len())
    })?;
    ensure(
        list(&annotations).iter().any(|a| a["end_date"].is_string()),
        || "no annotation over a range of days".into(),
    )?;

    // Run again: nothing changes. Then as a run cut off half-way would: nothing doubles.
    let counts = |api: &Api| -> Result<[usize; 4]> {
        let referrals = api.get("/v1/referrals")?;
        let won = list(&referrals)
            .iter()
            .filter(|r| r["status"] == "won")
            .count();
        let notes: usize = list(&api.get("/v1/responses?status=contacted")?)
            .iter()
            .map(|r| list(&r["follow_up"]["notes"]).len())
            .sum();
        Ok([
            list(&referrals).len(),
            won,
            notes,
            list(&api.get("/v1/annotations")?).len(),
        ])
    };
    let before = counts(api)?;
    let again = seed::seed(api, &survey, false)?;
    ensure(again == Seeded::Already, || {
        format!("a second run was not left alone: {again}")
    })?;
    let resumed = seed::seed(api, &survey, true)?;
    let after = counts(api)?;
    ensure(before == after, || {
        format!("referrals, won, notes, annotations went from {before:?} to {after:?}")
    })?;
    let Seeded::Done { imported, .. } = resumed else {
        return Err("demo-check: the resumed run did nothing".into());
    };
    ensure(imported.0 == 0 && imported.1 == 0, || {
        format!("the import again changed records: {imported:?}")
    })?;
    println!(
        "demo-check: {} accounts, coverage {:.0} %, {} ARR at risk, {priced} themes in money, {} won referrals; a second run left it alone",
        recorded.len(),
        coverage * 100.0,
        seed::dollars(number(&revenue["at_risk_arr"])),
        number(&promoters["won"]),
    );
    Ok(())
}
