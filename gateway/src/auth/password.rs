//! The password policy of docs/api.md: a length, and a strength estimated by zxcvbn
//! against common passwords, dictionaries, keyboard patterns and what the account itself
//! says about its owner. Hashing is `crate::hashing`'s bounded pool (`AppState::passwords`).

use crate::error::ApiError;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// The least zxcvbn score accepted: 3 means about 10^10 guesses, out of reach of an
/// online attack and costly offline against argon2id.
pub const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// 12 to 128 characters, and hard to guess: a zxcvbn score of at least 3, judged with
/// `user_inputs` (the e-mail, its local part, the names), so a password made of the
/// account's own details is refused. The answer names `password` and says why, with
/// zxcvbn's advice.
pub fn check_policy(password: &str, user_inputs: &[&str]) -> Result<(), ApiError> {
    let n = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&n) {
        return Err(ApiError::invalid_field(
            "password",
            format!("must be {MIN_LEN} to {MAX_LEN} characters"),
        ));
    }
    let mut inputs: Vec<&str> = Vec::with_capacity(user_inputs.len() * 2);
    for input in user_inputs
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        inputs.push(input);
        // `ann.lee@example.com` also lends `ann.lee`, `ann` and `lee`.
        if let Some((local, _)) = input.split_once('@') {
            inputs.push(local);
            inputs.extend(local.split(['.', '_', '-', '+']).filter(|p| p.len() > 2));
        }
    }
    let estimate = zxcvbn::zxcvbn(password, &inputs);
    if estimate.score() >= MIN_SCORE {
        return Ok(());
    }
    let mut advice = String::from("is too easy to guess");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            advice.push_str(&format!(" ({})", warning.to_string().trim_end_matches('.')));
        }
        let tips: Vec<String> = feedback
            .suggestions()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !tips.is_empty() {
            advice.push_str(&format!("; {}", tips.join(" ")));
        }
    }
    if !advice.contains(';') {
        advice.push_str("; use a longer passphrase of several unrelated words");
    }
    Err(ApiError::invalid_field("password", advice))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<(), ApiError>) -> String {
        match result {
            Err(ApiError::UnprocessableEntity { errors, .. }) => {
                assert_eq!(errors[0].field, "password");
                errors[0].message.clone()
            }
            other => panic!("expected a 422 naming the password, got {other:?}"),
        }
    }

    #[test]
    fn length_and_strength_are_both_required() {
        assert!(message(check_policy("short", &[])).contains("12 to 128"));
        assert!(message(check_policy(&"x".repeat(129), &[])).contains("12 to 128"));
        // Long enough, and still among the first guesses of any cracker.
        for weak in [
            "password1234",
            "qwertyuiop123",
            "aaaaaaaaaaaa",
            "123456789012",
        ] {
            let m = message(check_policy(weak, &[]));
            assert!(m.starts_with("is too easy to guess"), "{weak}: {m}");
        }
        assert!(check_policy("violet kestrel under 9 lanterns", &[]).is_ok());
    }

    #[test]
    fn the_accounts_own_details_do_not_make_a_password() {
        let own = "annabelle.lindqvist2024";
        assert!(check_policy(own, &[]).is_ok(), "strong without context");
        let m = message(check_policy(
            own,
            &["annabelle.lindqvist@example.com", "Annabelle", "Lindqvist"],
        ));
        assert!(m.starts_with("is too easy to guess"), "{m}");
    }
}
