//! Verification and reset links are secrets, against the real binary: staff cannot take
//! the admin's account over by asking for a reset link and reading it in the outbox (issue
//! 18, item 1). The link reaches the mailbox owner only, which without `SMTP_URL` is the
//! server's log.

use e2e::{eventually, send, Answer, Server, ADMIN_EMAIL, ADMIN_PASSWORD, PUBLIC_URL};
use serde_json::json;

const STAFF_EMAIL: &str = "sam.staff@e2e.example.com";
const STAFF_PASSWORD: &str = "sam's long staff password";

/// Every page of `GET /notifications` (with `query`), as `access` reads them.
async fn outbox(s: &Server, access: &str, query: &str) -> Vec<Answer> {
    let mut pages = Vec::new();
    let mut offset = 0;
    loop {
        let page = send(
            s.get(&format!(
                "/api/v1/notifications?limit=100&offset={offset}{query}"
            ))
            .bearer_auth(access),
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.body["items"].as_array().unwrap().len() as i64;
        let total = page.body["total"].as_i64().unwrap();
        pages.push(page);
        offset += 100;
        if items == 0 || offset >= total {
            return pages;
        }
    }
}

/// The attack of the issue, step by step: a staff member asks for the admin's reset link
/// and reads the outbox. No page of it, for staff or the admin, in any filter, shows the
/// token or any link to reset or verify; the message itself is listed, its link withheld.
/// The admin, reading their mail (the server's log), resets the password with the link.
#[tokio::test]
async fn staff_cannot_read_the_admins_reset_link_in_the_outbox() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let created = send(
        s.post("/api/v1/users")
            .bearer_auth(&admin)
            .json(&json!({ "email": STAFF_EMAIL, "password": STAFF_PASSWORD, "role": "staff" })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let staff = s.login(STAFF_EMAIL, STAFF_PASSWORD).await.access;

    let asked = send(
        s.post("/api/v1/auth/forgot-password")
            .bearer_auth(&staff)
            .json(&json!({ "email": ADMIN_EMAIL })),
    )
    .await;
    assert_eq!(asked.status, 202, "{}", asked.text);
    // What the admin's mailbox (the log) received: the one live token.
    let token = s.reset_token(ADMIN_EMAIL, 0).await;

    // The message is in the outbox, sent, as both readers see it.
    let listed = eventually("the outbox lists the sent reset message", || async {
        let page = outbox(&s, &staff, &format!("&to={ADMIN_EMAIL}&status=sent")).await;
        page[0].body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["template"] == "password_reset")
            .cloned()
    })
    .await;
    let body = listed["body"].as_str().unwrap();
    assert!(
        body.contains(domain::notification::WITHHELD_LINK),
        "{listed}"
    );
    for (reader, access) in [("staff", &staff), ("admin", &admin)] {
        for query in [
            String::new(),
            format!("&to={ADMIN_EMAIL}"),
            "&status=sent".into(),
            "&status=pending".into(),
        ] {
            for page in outbox(&s, access, &query).await {
                for leak in [
                    token.as_str(),
                    "?token=",
                    &format!("{PUBLIC_URL}/reset-password"),
                    &format!("{PUBLIC_URL}/verify-email"),
                ] {
                    assert!(
                        !page.text.contains(leak),
                        "{reader} reads {leak:?} in the outbox ({query}): {}",
                        page.text
                    );
                }
            }
        }
    }
    // Nor does the audit trail of the admin's account show it.
    let me = send(s.get("/api/v1/auth/profile").bearer_auth(&admin)).await;
    let admin_id = me.body["id"].as_str().unwrap();
    let trail = send(
        s.get(&format!("/api/v1/audit?resource=user:{admin_id}&limit=100"))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(trail.status, 200, "{}", trail.text);
    assert!(!trail.text.contains(&token), "{}", trail.text);

    // Staff, with nothing to present, cannot reset; the owner of the mailbox can.
    let guessed = send(
        s.post("/api/v1/auth/reset-password")
            .json(&json!({ "token": "", "password": "staff owns the shop now" })),
    )
    .await;
    assert_eq!(guessed.status, 422, "{}", guessed.text);
    let reset = send(
        s.post("/api/v1/auth/reset-password")
            .json(&json!({ "token": token, "password": "the admin's new password" })),
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    s.login(ADMIN_EMAIL, "the admin's new password").await;
    let old = send(
        s.post("/api/v1/auth/login")
            .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })),
    )
    .await;
    assert_eq!(old.status, 401, "{}", old.text);
}

/// Without `SMTP_URL` the server writes each e-mail to its log, live link included, as
/// Django's and Rails' console backends do, and warns at start that it does: a newcomer
/// can verify an address with the link read there.
#[tokio::test]
async fn without_smtp_mail_is_written_to_the_log_with_its_link() {
    let s = Server::start().await;
    s.register("lena.e2e@example.com", "lena's long password")
        .await;
    let link = s
        .mailed_link("lena.e2e@example.com", "verify-email", 0)
        .await;
    let mail = s.mail();
    let logged = mail
        .iter()
        .find(|m| m.link == link)
        .expect("the link's log line");
    assert!(
        logged.line.contains("subject=Confirm your e-mail address"),
        "{}",
        logged.line
    );
    assert!(
        s.output_tail().contains("SMTP_URL is not set"),
        "a warning says where mail goes:\n{}",
        s.output_tail()
    );
    let token = domain::notification::token_of(&link).unwrap();
    let verified = send(
        s.post("/api/v1/auth/verify-email")
            .json(&json!({ "token": token })),
    )
    .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["email_verified"], true);
}
