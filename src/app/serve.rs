//! `leakgate serve`: build the service from its plan, print the bound address, serve.

use super::plan::ServePlan;
use super::Outcome;
use anyhow::Result;
use leakgate::github::GitHubApi;
use leakgate::serve::{ApiFactory, Logger, Service};
use leakgate::verify::ProxyEnv;
use std::io::Write;
use std::sync::Arc;

/// Bind, say `listening on http://HOST:PORT` on stderr (one line), serve until a signal.
pub fn run(plan: ServePlan) -> Result<Outcome> {
    let log = Logger::new(plan.log_format, Box::new(std::io::stderr()));
    let api = github_client(&plan)?;
    let service = Service::bind(plan.options, api, log)?;
    let addr = service.local_addr()?;
    {
        let mut err = std::io::stderr().lock();
        writeln!(err, "listening on http://{addr}")?;
        err.flush()?;
    }
    service.run()?;
    Ok(Outcome::Clean)
}

/// Requests per second to GitHub from one alert's client (GitHub's limits are per hour).
const GITHUB_RATE: f64 = 10.0;

/// One GitHub REST client per alert processed, on the network settings of the verifier.
fn github_client(plan: &ServePlan) -> Result<ApiFactory> {
    let (api, token) = (plan.github_api.clone(), plan.github_token.clone());
    let mut net = plan.options.verify.net.clone();
    net.rate_per_sec = GITHUB_RATE;
    // A loopback API (tests, stand-ins) is reached directly, as a loopback Genesys template is.
    net.proxy = if api.is_loopback() {
        ProxyEnv::default()
    } else {
        ProxyEnv::from_env()?
    };
    Ok(Arc::new(move || {
        Box::new(GitHubApi::new(api.clone(), token.clone(), &net))
    }))
}
