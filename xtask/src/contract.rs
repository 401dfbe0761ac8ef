//! The API's contract in `cargo xtask test`: `collector/openapi.json` (which a collector test
//! keeps equal to what the handlers say) validated by openapi-spec-validator, and a live
//! release collector fuzzed against it by schemathesis with an admin token, `--checks all`,
//! bounded in examples and time by `collector/schemathesis.toml`, on SQLite and on
//! PostgreSQL. Both tools are pinned, in a virtualenv of their own under `target/`.

use serde_json::json;

use super::*;
use crate::bench::{scratch, spawn_collector, start_postgres};
use crate::seed::Api;

/// The tools, pinned: a new release of either changes what is checked, on purpose only.
const TOOLS: [&str; 3] = [
    "schemathesis==4.32.5",
    "hypothesis==6.170.29",
    "openapi-spec-validator==0.9.0",
];

/// The admin token of the fuzzed collector.
const TOKEN: &str = "contract-admin-token-0123456789";

pub(crate) fn contract(collector: &Path) -> Result {
    let venv = python_tools()?;
    let document = root().join("collector/openapi.json");
    run(Command::new(venv.join("bin/openapi-spec-validator")).arg(&document))?;
    let dir = scratch("contract")?;
    let sqlite = format!("sqlite://{}", dir.join("contract.db").display());
    fuzz(&venv, collector, &sqlite, "SQLite")?;
    let (postgres, _pg) = start_postgres(&dir)?;
    fuzz(&venv, collector, &postgres, "PostgreSQL")
}

/// The virtualenv with [`TOOLS`], made once (again when the pins change).
fn python_tools() -> Result<PathBuf> {
    let venv = target_dir().join("contract-venv");
    let stamp = venv.join("pinned");
    let wanted = TOOLS.join("\n");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(venv);
    }
    let _ = fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .map_err(|e| format!("python3 is needed for the API contract checks: {e}"))?;
    if !made.success() {
        return Err(
            "python3 -m venv failed: install python3-venv (`cargo xtask setup` does, as root)"
                .into(),
        );
    }
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(TOOLS))?;
    fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(venv)
}

/// schemathesis against a collector on `db`, with a survey and a personal link in it so the
/// public definition and the hosted page are reached too.
fn fuzz(venv: &Path, collector: &Path, db: &str, name: &str) -> Result {
    println!("API contract on {name}: schemathesis --checks all");
    let (url, _collector) = spawn_collector(
        collector,
        &[
            "--listen",
            "127.0.0.1:0",
            "--db",
            db,
            "--token",
            TOKEN,
            "--rate-limit",
            "0",
            // schemathesis sends wrong tokens on purpose, hundreds a minute.
            "--wrong-token-limit",
            "0",
            // Its refusals are the point: the log keeps to what went wrong on our side.
            "--log",
            "error",
        ],
    )?;
    let api = Api::new(&url, TOKEN);
    api.wait()?;
    let survey = json!({"id": "contract", "name": "Contract", "definition": {}});
    api.send("POST", "/v1/surveys", &survey, &[201])?;
    api.send(
        "PUT",
        "/v1/surveys/contract",
        &json!({"status": "active"}),
        &[200],
    )?;
    let person = json!({"survey_id": "contract", "user": {"id": "contract-person"}});
    let link = api.send("POST", "/v1/links", &person, &[201])?;
    let token = link["url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .ok_or("POST /v1/links answered no url")?
        .to_owned();
    run(Command::new(venv.join("bin/schemathesis"))
        .arg("--config-file")
        .arg(root().join("collector/schemathesis.toml"))
        .args(["--no-color", "run"])
        .arg(format!("{url}/v1/openapi.json"))
        .args(["--checks", "all", "-H"])
        .arg(format!("Authorization: Bearer {TOKEN}"))
        .env("NPS_CONTRACT_LINK", token)
        .env("NPS_CONTRACT_SURVEY", "contract"))
}
