//! Signed, purpose-bound tokens for the links in emails: confirm, unsubscribe, whitepaper,
//! and the author's buttons under a reaction notice (approve, delete).
//!
//! A token is `base64url(purpose · version · issued_at · subscriber or reaction id · mac)`, where `mac` is
//! HMAC-SHA256 over everything before it, truncated to 128 bits. So a link:
//!
//! - never carries an email address, only the random subscriber id;
//! - cannot be forged or altered without the secret (checked in constant time);
//! - works only for its purpose: an unsubscribe token does not confirm anyone;
//! - dies when the subscriber's token version moves on (after an erase, say);
//! - expires where the purpose says so (confirm after 7 days by default; unsubscribe never).
//!
//! ```
//! use postbode::tokens::{Purpose, TokenKey};
//! use postbode::subscribers::SubscriberId;
//! use jiff::Timestamp;
//!
//! let key = TokenKey::new(b"a secret of at least thirty-two bytes!!".to_vec()).unwrap();
//! let id = SubscriberId::random();
//! let now = Timestamp::from_second(1_800_000_000).unwrap();
//! let token = key.sign(Purpose::Unsubscribe, &id, 1, now);
//! let claims = key.verify(&token, Purpose::Unsubscribe).unwrap();
//! assert_eq!(claims.subscriber, id);
//! assert!(key.verify(&token, Purpose::Confirm).is_err());
//! ```

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::subscribers::SubscriberId;

/// What a token allows. The byte values are part of every token ever sent: never reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Confirm = 1,
    Unsubscribe = 2,
    Whitepaper = 3,
    /// The author's "Plaatsen" button under a reaction notice.
    ApproveReaction = 4,
    /// The author's "Verwijderen" button under a reaction notice.
    DeleteReaction = 5,
    /// A reader's preference page ("Je voorkeuren" in every mail's footer).
    Preferences = 6,
    /// The button in the mail to a new address a reader asked to move to.
    ConfirmAddress = 7,
}

impl Purpose {
    fn from_byte(b: u8) -> Option<Purpose> {
        match b {
            1 => Some(Purpose::Confirm),
            2 => Some(Purpose::Unsubscribe),
            3 => Some(Purpose::Whitepaper),
            4 => Some(Purpose::ApproveReaction),
            5 => Some(Purpose::DeleteReaction),
            6 => Some(Purpose::Preferences),
            7 => Some(Purpose::ConfirmAddress),
            _ => None,
        }
    }
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub purpose: Purpose,
    pub subscriber: SubscriberId,
    pub version: u32,
    pub issued_at: Timestamp,
}

/// What a valid token says besides the id it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectClaims {
    pub purpose: Purpose,
    pub version: u32,
    pub issued_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token is for another purpose")]
    WrongPurpose,
}

const MAC_LEN: usize = 16;
/// The id a token is about: a subscriber's, or a reaction's (the same length).
pub const SUBJECT_LEN: usize = SubscriberId::LEN;
const BODY_LEN: usize = 1 + 4 + 8 + SUBJECT_LEN;
pub const MIN_SECRET_LEN: usize = 32;

/// The signing secret. Its `Debug` never shows it, so it cannot leak into logs.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey([redacted])")
    }
}

impl TokenKey {
    pub fn new(secret: Vec<u8>) -> Result<TokenKey, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!("the token secret must be at least {MIN_SECRET_LEN} bytes long"));
        }
        Ok(TokenKey(secret))
    }

    fn mac(&self, body: &[u8]) -> [u8; MAC_LEN] {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(body);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    pub fn sign(&self, purpose: Purpose, subscriber: &SubscriberId, version: u32, issued_at: Timestamp) -> String {
        self.sign_subject(purpose, subscriber.as_bytes(), version, issued_at)
    }

    /// A token about any 16-byte id (a reaction's, for the author's moderation links): the
    /// same format and checks as a subscriber's, its purpose telling what the id is.
    pub fn sign_subject(
        &self,
        purpose: Purpose,
        subject: &[u8; SUBJECT_LEN],
        version: u32,
        issued_at: Timestamp,
    ) -> String {
        let mut bytes = Vec::with_capacity(BODY_LEN + MAC_LEN);
        bytes.push(purpose as u8);
        bytes.extend_from_slice(&version.to_be_bytes());
        bytes.extend_from_slice(&issued_at.as_second().to_be_bytes());
        bytes.extend_from_slice(subject);
        let mac = self.mac(&bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A salted, keyed hash of an address for the suppression list: the address itself is
    /// gone after an erase, but a later mail to it can still be recognised and refused.
    pub fn suppression_hash(&self, email: &str) -> String {
        self.fingerprint("postbode suppression list", email)
    }

    /// A keyed hash of `value` for one `purpose` (hex): counters and lists can tell values
    /// apart without holding them (a mailbox, a client address).
    pub fn fingerprint(&self, purpose: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks the signature and the purpose. Expiry and version are the caller's to judge,
    /// since they depend on the purpose and the stored subscriber.
    pub fn verify(&self, token: &str, purpose: Purpose) -> Result<Claims, TokenError> {
        let (claims, subject) = self.verify_subject(token, purpose)?;
        let subscriber = SubscriberId::from_bytes(&subject).ok_or(TokenError::Malformed)?;
        Ok(Claims { purpose: claims.purpose, subscriber, version: claims.version, issued_at: claims.issued_at })
    }

    /// [`TokenKey::verify`] for a token of [`TokenKey::sign_subject`]: its claims and the id
    /// it is about.
    pub fn verify_subject(
        &self,
        token: &str,
        purpose: Purpose,
    ) -> Result<(SubjectClaims, [u8; SUBJECT_LEN]), TokenError> {
        if token.len() > 2 * (BODY_LEN + MAC_LEN) {
            return Err(TokenError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| TokenError::Malformed)?;
        if bytes.len() != BODY_LEN + MAC_LEN {
            return Err(TokenError::Malformed);
        }
        let (body, mac) = bytes.split_at(BODY_LEN);
        if !bool::from(self.mac(body).ct_eq(mac)) {
            return Err(TokenError::BadSignature);
        }
        let found = Purpose::from_byte(body[0]).ok_or(TokenError::Malformed)?;
        if found != purpose {
            return Err(TokenError::WrongPurpose);
        }
        let version = u32::from_be_bytes(body[1..5].try_into().map_err(|_| TokenError::Malformed)?);
        let seconds = i64::from_be_bytes(body[5..13].try_into().map_err(|_| TokenError::Malformed)?);
        let issued_at = Timestamp::from_second(seconds).map_err(|_| TokenError::Malformed)?;
        let subject: [u8; SUBJECT_LEN] = body[13..].try_into().map_err(|_| TokenError::Malformed)?;
        Ok((SubjectClaims { purpose: found, version, issued_at }, subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> TokenKey {
        TokenKey::new(vec![7u8; 32]).unwrap()
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap()
    }

    #[test]
    fn round_trips_and_binds_purpose() {
        let id = SubscriberId::random();
        let token = key().sign(Purpose::Confirm, &id, 3, now());
        let claims = key().verify(&token, Purpose::Confirm).unwrap();
        assert_eq!((claims.subscriber, claims.version, claims.issued_at), (id, 3, now()));
        assert_eq!(key().verify(&token, Purpose::Unsubscribe), Err(TokenError::WrongPurpose));
    }

    #[test]
    fn a_reaction_token_is_bound_to_its_purpose_and_id() {
        let id = [9u8; SUBJECT_LEN];
        let token = key().sign_subject(Purpose::ApproveReaction, &id, 0, now());
        let (claims, subject) = key().verify_subject(&token, Purpose::ApproveReaction).unwrap();
        assert_eq!((subject, claims.issued_at), (id, now()));
        assert_eq!(key().verify_subject(&token, Purpose::DeleteReaction), Err(TokenError::WrongPurpose));
        assert_eq!(key().verify(&token, Purpose::Unsubscribe), Err(TokenError::WrongPurpose));
    }

    #[test]
    fn another_secret_rejects_it() {
        let token = key().sign(Purpose::Confirm, &SubscriberId::random(), 1, now());
        let other = TokenKey::new(vec![8u8; 32]).unwrap();
        assert_eq!(other.verify(&token, Purpose::Confirm), Err(TokenError::BadSignature));
    }

    #[test]
    fn short_secrets_are_refused_and_never_printed() {
        assert!(TokenKey::new(vec![1; 31]).is_err());
        assert_eq!(format!("{:?}", key()), "TokenKey([redacted])");
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in ["", "abc", "!!!!", &"A".repeat(500)] {
            assert!(key().verify(bad, Purpose::Confirm).is_err());
        }
    }

    proptest! {
        /// Flipping any bit of a token makes it invalid.
        #[test]
        fn any_tampering_is_detected(byte in 0usize..(BODY_LEN + MAC_LEN), bit in 0u8..8) {
            let token = key().sign(Purpose::Unsubscribe, &SubscriberId::random(), 1, now());
            let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
            bytes[byte] ^= 1 << bit;
            let tampered = URL_SAFE_NO_PAD.encode(bytes);
            prop_assert!(key().verify(&tampered, Purpose::Unsubscribe).is_err());
        }
    }
}
