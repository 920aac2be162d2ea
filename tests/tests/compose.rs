//! Issue 18 item 13: `compose.yml` is safe to run as shipped. Only the engine is published
//! (and, in the `dev` profile, Mailpit's UI on the loopback interface), PostgreSQL has a
//! password and NATS a token from the env file, every service has a healthcheck and a
//! restart policy, and the env file stays out of git.
//!
//! With `docker compose` at hand the file is read as compose itself resolves it
//! (`docker compose config --format json`); without it, as text, with a notice: the file
//! keeps to one plain layout (two spaces per level, no anchors) so that reading holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[derive(Debug, Default)]
struct Service {
    keys: Vec<String>,
    ports: Vec<String>,
    profiles: Vec<String>,
    environment: BTreeMap<String, String>,
    command: String,
    restart: Option<String>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Values for the secrets, so that `docker compose config` resolves the file.
const SECRETS: [(&str, &str); 4] = [
    ("POSTGRES_PASSWORD", "pg-password-from-env"),
    ("NATS_TOKEN", "nats-token-from-env"),
    ("JWT_SECRET", "jwt-secret-from-env-jwt-secret-from-env"),
    ("COMPOSE_PROFILES", "dev"),
];

fn resolved_by_docker() -> Option<BTreeMap<String, Service>> {
    let available = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        return None;
    }
    let out = Command::new("docker")
        .args(["compose", "-f", "compose.yml", "config", "--format", "json"])
        .current_dir(repo())
        .env_remove("GATEWAY_PUBLISH")
        .envs(SECRETS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker compose config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    let services = config["services"].as_object().unwrap();
    Some(
        services
            .iter()
            .map(|(name, s)| {
                let s = s.as_object().unwrap();
                let ports = s
                    .get("ports")
                    .and_then(Value::as_array)
                    .map_or(vec![], |ps| {
                        ps.iter()
                            .map(|p| {
                                format!(
                                    "{}:{}:{}",
                                    text(&p["host_ip"]),
                                    text(&p["published"]),
                                    text(&p["target"])
                                )
                            })
                            .collect()
                    });
                let service = Service {
                    keys: s.keys().cloned().collect(),
                    ports,
                    profiles: s
                        .get("profiles")
                        .and_then(Value::as_array)
                        .map_or(vec![], |p| p.iter().map(text).collect()),
                    environment: s
                        .get("environment")
                        .and_then(Value::as_object)
                        .map_or(BTreeMap::new(), |e| {
                            e.iter().map(|(k, v)| (k.clone(), text(v))).collect()
                        }),
                    command: s.get("command").map(text).unwrap_or_default(),
                    restart: s.get("restart").map(text),
                };
                (name.clone(), service)
            })
            .collect(),
    )
}

/// `compose.yml` read as text: services at two spaces, their keys at four, list items and
/// environment entries at six.
fn read_as_text() -> BTreeMap<String, Service> {
    let text = std::fs::read_to_string(repo().join("compose.yml")).unwrap();
    assert!(
        !text.contains("<<:") && !text.contains(": &"),
        "no anchors: the text reading would not see merged keys"
    );
    let unquote = |s: &str| s.trim().trim_matches('"').to_owned();
    let mut services = BTreeMap::new();
    let (mut in_services, mut current, mut key) = (false, None::<String>, String::new());
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        match indent {
            0 => in_services = body == "services:",
            2 if in_services => {
                let name = body.trim_end_matches(':').to_owned();
                services.insert(name.clone(), Service::default());
                current = Some(name);
            }
            4 if in_services => {
                let service = services.get_mut(current.as_ref().unwrap()).unwrap();
                let (k, value) = body.split_once(':').unwrap();
                key = k.to_owned();
                service.keys.push(key.clone());
                match k {
                    "restart" => service.restart = Some(unquote(value)),
                    "profiles" => {
                        service.profiles = value
                            .trim()
                            .trim_matches(['[', ']'])
                            .split(',')
                            .map(unquote)
                            .collect()
                    }
                    "command" => service.command = value.to_owned(),
                    _ => {}
                }
            }
            i if in_services && i >= 6 => {
                let service = services.get_mut(current.as_ref().unwrap()).unwrap();
                match key.as_str() {
                    "ports" => service.ports.push(unquote(body.trim_start_matches("- "))),
                    "command" => service.command.push_str(body),
                    "environment" if i == 6 => {
                        let (k, v) = body.split_once(':').unwrap();
                        service.environment.insert(k.to_owned(), unquote(v));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    services
}

#[test]
fn compose_is_safe_as_shipped() {
    let (services, by_docker) = match resolved_by_docker() {
        Some(s) => (s, true),
        None => {
            eprintln!(
                "NOTICE: `docker compose` is not available here; compose.yml is checked as text"
            );
            (read_as_text(), false)
        }
    };
    for name in ["eventstore", "nats", "postgres", "ultramarket", "mailpit"] {
        assert!(services.contains_key(name), "no {name} service");
    }

    for (name, s) in &services {
        assert!(
            s.keys.iter().any(|k| k == "healthcheck"),
            "{name} has no healthcheck"
        );
        assert!(
            s.restart.as_deref().is_some_and(|r| r != "no"),
            "{name} has no restart policy"
        );
        // Only the engine is published (serve, or the split deployment's gateway); a
        // development tool only on the loopback interface.
        if name != "ultramarket" && name != "gateway" && !s.ports.is_empty() {
            assert!(
                s.profiles.iter().any(|p| p == "dev"),
                "{name} publishes {:?}",
                s.ports
            );
            assert!(
                s.ports.iter().all(|p| p.starts_with("127.0.0.1:")),
                "{name} publishes {:?} beyond the loopback interface",
                s.ports
            );
        }
    }
    let gateway = &services["ultramarket"];
    assert_eq!(gateway.ports.len(), 1, "{:?}", gateway.ports);
    assert!(
        gateway.ports[0].contains("127.0.0.1:8080"),
        "the engine is published on the loopback interface by default: {:?}",
        gateway.ports
    );

    // The secrets come from the env file, never from the compose file itself.
    let from_env = |value: &str, var: &str| {
        if by_docker {
            let secret = SECRETS.iter().find(|(k, _)| *k == var).unwrap().1;
            value.contains(secret)
        } else {
            value.contains(&format!("${{{var}:?"))
        }
    };
    // The split deployment: the four roles from the engine's image, under a profile of
    // their own (so `docker compose up` still runs `serve` alone), the gateway published
    // like `serve`, the other roles not at all, each checked on its own health port.
    for (role, health) in [
        ("gateway", "8080"),
        ("relay", "8081"),
        ("project", "8082"),
        ("process", "8083"),
    ] {
        let s = services
            .get(role)
            .unwrap_or_else(|| panic!("no {role} service"));
        assert_eq!(s.profiles, ["split"], "{role}");
        assert!(
            s.command.contains(&format!("\"{role}\"")),
            "{role}: {}",
            s.command
        );
        if role == "gateway" {
            assert_eq!(
                s.ports, gateway.ports,
                "the split gateway is published like serve"
            );
        } else {
            assert!(s.ports.is_empty(), "{role} publishes {:?}", s.ports);
            assert!(
                s.environment["METRICS_BIND"].ends_with(&format!(":{health}")),
                "{role}: {:?}",
                s.environment
            );
        }
        assert!(from_env(
            &s.environment["DATABASE_URL"],
            "POSTGRES_PASSWORD"
        ));
        assert!(from_env(&s.environment["NATS_URL"], "NATS_TOKEN"));
    }
    for role in ["gateway", "process"] {
        assert!(
            from_env(&services[role].environment["JWT_SECRET"], "JWT_SECRET"),
            "{role}"
        );
    }

    let postgres = &services["postgres"];
    assert!(
        from_env(
            &postgres.environment["POSTGRES_PASSWORD"],
            "POSTGRES_PASSWORD"
        ),
        "{:?}",
        postgres.environment
    );
    assert!(!postgres
        .environment
        .contains_key("POSTGRES_HOST_AUTH_METHOD"));
    let nats = &services["nats"];
    assert!(nats.command.contains("--auth"), "{}", nats.command);
    assert!(from_env(&nats.command, "NATS_TOKEN"), "{}", nats.command);
    let env = &gateway.environment;
    assert!(from_env(&env["DATABASE_URL"], "POSTGRES_PASSWORD"));
    assert!(from_env(&env["NATS_URL"], "NATS_TOKEN"));
    assert!(from_env(&env["JWT_SECRET"], "JWT_SECRET"));
    if !by_docker {
        // Passed through without a value: compose drops them from its output when unset.
        assert!(env.contains_key("SMTP_URL") && env.contains_key("BOOTSTRAP_ADMIN_PASSWORD"));
    }

    let gitignore = std::fs::read_to_string(repo().join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l.trim() == ".env"));
    let example = std::fs::read_to_string(repo().join(".env.example")).unwrap();
    for var in ["POSTGRES_PASSWORD", "NATS_TOKEN", "JWT_SECRET"] {
        assert!(
            example.lines().any(|l| l.starts_with(&format!("{var}="))),
            ".env.example lacks {var}"
        );
    }
}
