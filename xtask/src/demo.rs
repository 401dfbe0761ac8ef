//! `cargo xtask demo`: the widget built, the collector serving the demo page with a fresh
//! token, and the demo page's survey (`www/demo-survey.json`) made and activated through the
//! collector's API, so what the card asks can be changed there and seen on reload.

use super::*;
use crate::test::build_collector;

pub(crate) fn demo(extra: &[String]) -> Result {
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
        .args(extra);
    eprintln!("$ {cmd:?}");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting the collector: {e}"))?;
    let listen = extra
        .iter()
        .position(|a| a == "--listen")
        .and_then(|i| extra.get(i + 1))
        .map_or("127.0.0.1:8080", String::as_str);
    if let Err(e) = seed_survey(&format!("http://{listen}"), &token) {
        let _ = child.kill();
        return Err(e);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the collector stopped: {status}"))
    }
}

/// Makes the demo page's survey and activates it, once the collector answers; a survey the
/// team already changed (an earlier run on the same database) is left as it is.
fn seed_survey(base: &str, token: &str) -> Result {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into();
    let started = std::time::Instant::now();
    while agent.get(format!("{base}/healthz")).call().is_err() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            return Err(format!(
                "the collector did not answer at {base} within 30 s"
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let survey = fs::read_to_string(root().join("www/demo-survey.json"))
        .map_err(|e| format!("www/demo-survey.json: {e}"))?;
    let id = serde_json::from_str::<serde_json::Value>(&survey)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .ok_or("www/demo-survey.json: no \"id\"")?;
    let bearer = format!("Bearer {token}");
    let made = agent
        .post(format!("{base}/v1/surveys"))
        .header("Authorization", &bearer)
        .header("Content-Type", "application/json")
        .send(survey.as_str())
        .map_err(|e| format!("POST /v1/surveys: {e}"))?;
    match made.status().as_u16() {
        201 => {
            let active = agent
                .put(format!("{base}/v1/surveys/{id}"))
                .header("Authorization", &bearer)
                .header("Content-Type", "application/json")
                .send(r#"{"status": "active"}"#)
                .map_err(|e| format!("PUT /v1/surveys/{id}: {e}"))?;
            if active.status().as_u16() != 200 {
                return Err(format!("PUT /v1/surveys/{id}: {}", active.status()));
            }
            println!(
                "demo: the survey \"{id}\" is made and active; change what it asks in the dashboard's Surveys\n      view and reload the demo page, or with\n      curl -X PUT {base}/v1/surveys/{id} -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\\n        -d '{{\"definition\": {{\"product\": \"Acme Analytics\", \"strings\": {{\"passive_prompt\": \"What one thing would make it a 10?\"}}}}}}'\n      and reload the page"
            );
            Ok(())
        }
        409 => Ok(()),
        status => Err(format!("POST /v1/surveys: {status}")),
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
