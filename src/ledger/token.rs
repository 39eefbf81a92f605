//! Voter tokens: HMAC-SHA-256(consultation key, tag ‖ account id). Stable within a
//! consultation (dedup and re-votes), unlinkable across consultations (each has its own
//! random key); once the key is destroyed nobody can tie a token to an account.

use crate::domain::ids::AccountId;
use ring::hmac;
use ring::rand::SecureRandom;

/// Domain-separation tag: a token can never collide with another HMAC use of the key.
pub const VOTER_TOKEN_TAG: &[u8] = b"amenda-voter-token-v1\0";

/// A consultation's secret key: 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsultationKey([u8; 32]);

impl std::fmt::Debug for ConsultationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsultationKey(…)")
    }
}

impl ConsultationKey {
    pub fn generate(rng: &dyn SecureRandom) -> Result<ConsultationKey, ring::error::Unspecified> {
        let mut k = [0u8; 32];
        rng.fill(&mut k)?;
        Ok(ConsultationKey(k))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> ConsultationKey {
        ConsultationKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The voter token of an account: HMAC-SHA-256(key, tag ‖ account id as i64 BE).
    pub fn voter_token(&self, account_id: AccountId) -> [u8; 32] {
        let k = hmac::Key::new(hmac::HMAC_SHA256, &self.0);
        let mut ctx = hmac::Context::with_key(&k);
        ctx.update(VOTER_TOKEN_TAG);
        ctx.update(&account_id.get().to_be_bytes());
        ctx.sign().as_ref().try_into().expect("32 bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_per_key_and_distinct_across_keys() {
        let a = ConsultationKey::from_bytes([1; 32]);
        let b = ConsultationKey::from_bytes([2; 32]);
        assert_eq!(
            a.voter_token(AccountId::new(7)),
            a.voter_token(AccountId::new(7))
        );
        assert_ne!(
            a.voter_token(AccountId::new(7)),
            a.voter_token(AccountId::new(8))
        );
        assert_ne!(
            a.voter_token(AccountId::new(7)),
            b.voter_token(AccountId::new(7))
        );
        // Plain HMAC of the id alone differs: the tag separates domains.
        let k = hmac::Key::new(hmac::HMAC_SHA256, &[1; 32]);
        assert_ne!(
            hmac::sign(&k, &7i64.to_be_bytes()).as_ref(),
            a.voter_token(AccountId::new(7)).as_slice()
        );
    }
}
