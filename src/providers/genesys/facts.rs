//! Facts about Genesys Cloud shared by detection and verification: region domains and the names
//! the Terraform provider and the SDKs use for them.

/// Every Genesys Cloud region domain. The login host is `login.<domain>`, the API host `api.<domain>`.
pub const REGION_DOMAINS: &[&str] = &[
    "mypurecloud.com",
    "mypurecloud.ie",
    "mypurecloud.de",
    "mypurecloud.jp",
    "mypurecloud.com.au",
    "usw2.pure.cloud",
    "cac1.pure.cloud",
    "apne2.pure.cloud",
    "apne3.pure.cloud",
    "euw2.pure.cloud",
    "euc2.pure.cloud",
    "aps1.pure.cloud",
    "sae1.pure.cloud",
    "mec1.pure.cloud",
    "mxc1.pure.cloud",
    "apse1.pure.cloud",
    "use2.us-gov-pure.cloud",
    "edee1.eusc-pure.cloud",
];

/// AWS-style region names (as the Terraform provider and SDK enums use them) and their domains.
const AWS_REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "mypurecloud.com"),
    ("us-east-2", "use2.us-gov-pure.cloud"),
    ("us-west-2", "usw2.pure.cloud"),
    ("ca-central-1", "cac1.pure.cloud"),
    ("sa-east-1", "sae1.pure.cloud"),
    ("eu-west-1", "mypurecloud.ie"),
    ("eu-west-2", "euw2.pure.cloud"),
    ("eu-central-1", "mypurecloud.de"),
    ("eu-central-2", "euc2.pure.cloud"),
    ("ap-south-1", "aps1.pure.cloud"),
    ("ap-northeast-1", "mypurecloud.jp"),
    ("ap-northeast-2", "apne2.pure.cloud"),
    ("ap-northeast-3", "apne3.pure.cloud"),
    ("ap-southeast-1", "apse1.pure.cloud"),
    ("ap-southeast-2", "mypurecloud.com.au"),
    ("me-central-1", "mec1.pure.cloud"),
    ("mx-central-1", "mxc1.pure.cloud"),
    ("eusc-de-east-1", "edee1.eusc-pure.cloud"),
];

/// The region domain for a name as users write it: a domain (`mypurecloud.ie`), a host
/// (`login.mypurecloud.ie`), or an AWS-style region in any case with `-` or `_`
/// (`eu-west-1`, `EU_WEST_1`). `None` when the name is no Genesys region.
pub fn region_domain(name: &str) -> Option<&'static str> {
    let lower = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = host.split('/').next().unwrap_or(host);
    for service in ["", "login.", "api.", "apps.", "webservices.", "www."] {
        if let Some(rest) = host.strip_prefix(service) {
            if let Some(d) = REGION_DOMAINS.iter().find(|d| **d == rest) {
                return Some(d);
            }
        }
    }
    let dashed = host.replace('_', "-");
    AWS_REGIONS
        .iter()
        .find(|(aws, _)| *aws == dashed)
        .map(|(_, d)| *d)
}

/// Every region as `--region` accepts it, for an error message: each AWS-style name with its
/// domain (`eu-west-1 (mypurecloud.ie)`), comma-separated, in a fixed order.
pub fn region_list() -> String {
    AWS_REGIONS
        .iter()
        .map(|(aws, domain)| format!("{aws} ({domain})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The AWS-style region names, for building matchers.
pub fn aws_region_names() -> impl Iterator<Item = &'static str> {
    AWS_REGIONS.iter().map(|(aws, _)| *aws)
}

/// True for a lowercase UUID v4, the shape of a Genesys Cloud OAuth client id.
pub fn is_client_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            14 => *c == b'4',
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

/// True for a value shaped like a Genesys client secret: 43 base64url characters encoding 32
/// bytes, so the last one carries only two bits.
pub fn is_client_secret(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 43
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
        && b"AEIMQUYcgkosw048".contains(&b[42])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_resolve() {
        assert_eq!(region_domain("eu-west-1"), Some("mypurecloud.ie"));
        assert_eq!(region_domain("EU_WEST_1"), Some("mypurecloud.ie"));
        assert_eq!(
            region_domain("login.usw2.pure.cloud"),
            Some("usw2.pure.cloud")
        );
        assert_eq!(
            region_domain("https://api.mypurecloud.com.au/api/v2"),
            Some("mypurecloud.com.au")
        );
        assert_eq!(region_domain("mypurecloud.de"), Some("mypurecloud.de"));
        assert_eq!(region_domain("example.com"), None);
        assert_eq!(region_domain("us-west-1"), None);
    }

    #[test]
    fn shapes() {
        assert!(is_client_id("0f8e4c1a-2b3d-4e5f-9a6b-7c8d9e0f1a2b"));
        assert!(!is_client_id("0f8e4c1a-2b3d-1e5f-9a6b-7c8d9e0f1a2b"));
        assert!(!is_client_id("0F8E4C1A-2B3D-4E5F-9A6B-7C8D9E0F1A2B"));
        let secret = format!("{}{}", "a".repeat(42), "w");
        assert!(is_client_secret(&secret));
        assert!(!is_client_secret(&format!("{}{}", "a".repeat(42), "x")));
    }
}
