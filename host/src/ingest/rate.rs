//! Per-tenant rate limits (token buckets, one per tenant): a tenant over its
//! rate gets 429 with `Retry-After`; other tenants are unaffected.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter, state::keyed::DefaultKeyedStateStore};

use crate::api::ApiError;

/// Token buckets keyed by tenant.
pub struct TenantRates {
    limiter: RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>,
    burst: u32,
}

impl TenantRates {
    /// `per_second` sustained, `burst` at once, for each tenant.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst_nz = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst_nz)),
            burst: burst.max(1),
        }
    }

    /// Take `events` tokens for `tenant`, or say when to come back.
    pub fn check(&self, tenant: &str, events: usize) -> Result<(), ApiError> {
        let n = u32::try_from(events).unwrap_or(u32::MAX).max(1);
        let Some(n) = NonZeroU32::new(n.min(self.burst)) else {
            return Ok(());
        };
        match self.limiter.check_key_n(&tenant.to_owned(), n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                metrics::counter!("sluice_ingest_rejected_total", "tenant" => tenant.to_owned(), "reason" => "rate_limited").increment(events as u64);
                Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "this tenant is over its event rate; slow down",
                )
                .retry_after(wait.max(Duration::from_secs(1))))
            }
            Err(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_over_its_rate_is_refused_with_retry_after_and_others_are_not() {
        let rates = TenantRates::new(10, 100);
        assert!(rates.check("acme", 100).is_ok());
        let refused = rates.check("acme", 50).unwrap_err();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.retry_after.is_some());
        assert!(rates.check("globex", 100).is_ok());
    }
}
