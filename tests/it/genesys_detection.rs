//! Genesys Cloud detection across the languages and formats real code uses, pairing with the
//! client id and region, the layers secrets hide under, and the look-alikes that are not secrets.
//! Every credential is generated at test time.

use crate::common;

use base64::Engine;
use common::{client_id, findings, genesys_secret, scan_json, write_files};
use serde_json::Value;

/// Scan one file with `text` at `name`; return the findings.
fn scan_one(name: &str, text: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[(name, text)]);
    let (code, doc) = scan_json(dir.path(), &[]);
    let found = findings(&doc).clone();
    assert_eq!(code, i32::from(!found.is_empty()), "{doc:#}");
    found
}

/// Assert exactly one Genesys finding for `secret`, paired with `id` and `region`.
fn assert_genesys(found: &[Value], rule: &str, id: &str, region: Option<&str>, what: &str) {
    assert_eq!(found.len(), 1, "{what}: {found:#?}");
    let f = &found[0];
    assert_eq!(f["rule_id"], rule, "{what}: {f:#}");
    assert_eq!(f["pair"]["id"], id, "{what}: {f:#}");
    assert_eq!(
        f["pair"]["host"].as_str(),
        region,
        "{what}: region in {f:#}"
    );
}

/// Builds a file's text from a client id and a secret.
type Template = Box<dyn Fn(&str, &str) -> String>;

#[test]
fn every_language_and_format() {
    let cases: Vec<(&str, Template, Option<&str>)> = vec![
        (
            "app.py",
            Box::new(|id: &str, s: &str| {
                format!(
            "import PureCloudPlatformClientV2\n\nREGION = PureCloudPlatformClientV2.PureCloudRegionHosts.eu_west_1\nPureCloudPlatformClientV2.configuration.host = REGION.get_api_host()\nCLIENT_ID = \"{id}\"\nCLIENT_SECRET = \"{s}\"\napi = PureCloudPlatformClientV2.api_client.ApiClient().get_client_credentials_token(CLIENT_ID, CLIENT_SECRET)\n")
            }),
            Some("mypurecloud.ie"),
        ),
        (
            "auth.ts",
            Box::new(|id: &str, s: &str| {
                format!(
            "import platformClient from 'purecloud-platform-client-v2';\nconst client = platformClient.ApiClient.instance;\nclient.setEnvironment(platformClient.PureCloudRegionHosts.us_west_2);\nawait client.loginClientCredentialsGrant('{id}', '{s}');\n")
            }),
            Some("usw2.pure.cloud"),
        ),
        (
            "Auth.java",
            Box::new(|id: &str, s: &str| {
                format!(
            "import com.mypurecloud.sdk.v2.ApiClient;\nimport com.mypurecloud.sdk.v2.PureCloudRegionHosts;\nclass Auth {{\n  void login() throws Exception {{\n    ApiClient client = ApiClient.Builder.standard().withBasePath(PureCloudRegionHosts.eu_central_1).build();\n    ApiResponse<AuthResponse> r = client.authorizeClientCredentials(\"{id}\", \"{s}\");\n  }}\n}}\n")
            }),
            Some("mypurecloud.de"),
        ),
        (
            "Auth.cs",
            Box::new(|id: &str, s: &str| {
                format!(
            "using PureCloudPlatform.Client.V2.Client;\nPureCloudRegionHosts region = PureCloudRegionHosts.ap_northeast_1;\nConfiguration.Default.ApiClient.setBasePath(region);\nvar accessTokenInfo = Configuration.Default.ApiClient.PostToken(\"{id}\", \"{s}\");\n")
            }),
            Some("mypurecloud.jp"),
        ),
        (
            "main.go",
            Box::new(|id: &str, s: &str| {
                format!(
            "package main\n\nimport \"github.com/mypurecloud/platform-client-sdk-go/v150/platformclientv2\"\n\nfunc main() {{\n\tconfig := platformclientv2.GetDefaultConfiguration()\n\tconfig.BasePath = \"https://api.cac1.pure.cloud\"\n\terr := config.AuthorizeClientCredentials(\"{id}\", \"{s}\")\n\t_ = err\n}}\n")
            }),
            Some("cac1.pure.cloud"),
        ),
        (
            "client.rb",
            Box::new(|id: &str, s: &str| {
                format!(
            "require 'purecloudplatformclientv2'\nPureCloud.configure do |config|\n  config.host = 'api.mypurecloud.com.au'\nend\nGENESYS = {{ client_id: '{id}', client_secret: '{s}' }}\n")
            }),
            Some("mypurecloud.com.au"),
        ),
        (
            "deploy.ps1",
            Box::new(|id: &str, s: &str| {
                format!(
            "# Genesys Cloud deployment\n$env:GENESYSCLOUD_REGION = \"us-east-1\"\n$clientId = \"{id}\"\n$clientSecret = \"{s}\"\ngc profiles new --clientId $clientId --clientSecret $clientSecret\n")
            }),
            Some("mypurecloud.com"),
        ),
        (
            "export.sh",
            Box::new(|id: &str, s: &str| {
                format!(
            "#!/bin/sh\nexport GENESYS_CLOUD_ENVIRONMENT=mypurecloud.ie\nexport GENESYS_CLOUD_CLIENT_ID={id}\nexport GENESYS_CLOUD_CLIENT_SECRET={s}\n")
            }),
            Some("mypurecloud.ie"),
        ),
        (
            "main.tf",
            Box::new(|id: &str, s: &str| {
                format!(
            "terraform {{\n  required_providers {{\n    genesyscloud = {{ source = \"mypurecloud/genesyscloud\" }}\n  }}\n}}\n\nprovider \"genesyscloud\" {{\n  oauthclient_id     = \"{id}\"\n  oauthclient_secret = \"{s}\"\n  aws_region         = \"eu-west-2\"\n}}\n")
            }),
            Some("euw2.pure.cloud"),
        ),
        (
            "values.yaml",
            Box::new(|id: &str, s: &str| {
                format!(
            "genesys:\n  region: ap-south-1\n  oauth:\n    clientId: {id}\n    clientSecret: \"{s}\"\n")
            }),
            Some("aps1.pure.cloud"),
        ),
        (
            "config.json",
            Box::new(|id: &str, s: &str| {
                format!(
            "{{\n  \"genesysCloud\": {{\n    \"environment\": \"sae1.pure.cloud\",\n    \"clientId\": \"{id}\",\n    \"clientSecret\": \"{s}\"\n  }}\n}}\n")
            }),
            Some("sae1.pure.cloud"),
        ),
        (
            "analysis.ipynb",
            Box::new(|id: &str, s: &str| {
                format!(
            "{{\"cells\": [{{\"cell_type\": \"code\", \"source\": [\"import PureCloudPlatformClientV2\\n\", \"creds = {{\\\"client_id\\\": \\\"{id}\\\", \\\"client_secret\\\": \\\"{s}\\\"}}\\n\"]}}]}}\n")
            }),
            None,
        ),
        (
            "config.toml",
            Box::new(|id: &str, s: &str| {
                format!(
            "[default]\nclient_credentials = \"{id}\"\nclient_secret = \"{s}\"\nenvironment = \"mypurecloud.com\"\n")
            }),
            Some("mypurecloud.com"),
        ),
        (
            ".env",
            Box::new(|id: &str, s: &str| {
                format!(
            "GENESYSCLOUD_REGION=ap-northeast-2\nGENESYSCLOUD_OAUTHCLIENT_ID={id}\nGENESYSCLOUD_OAUTHCLIENT_SECRET={s}\n")
            }),
            Some("apne2.pure.cloud"),
        ),
        (
            "app.properties",
            Box::new(|id: &str, s: &str| {
                format!(
            "genesys.environment=mypurecloud.de\ngenesys.client.id={id}\ngenesys.client.secret={s}\n")
            }),
            Some("mypurecloud.de"),
        ),
        (
            "App.config",
            Box::new(|id: &str, s: &str| {
                format!(
            "<configuration>\n  <appSettings>\n    <add key=\"PureCloudEnvironment\" value=\"mypurecloud.ie\" />\n    <add key=\"PureCloudClientId\" value=\"{id}\" />\n    <add key=\"PureCloudClientSecret\" value=\"{s}\" />\n  </appSettings>\n</configuration>\n")
            }),
            Some("mypurecloud.ie"),
        ),
        (
            "bundle.min.js",
            Box::new(|id: &str, s: &str| {
                format!(
            "!function(e){{{}var t={{env:\"mypurecloud.jp\",clientId:\"{id}\",clientSecret:\"{s}\"}};e.genesysAuth=t}}(window);{}",
            "var a=1;".repeat(400), "function n(o){return o+1}".repeat(300))
            }),
            Some("mypurecloud.jp"),
        ),
    ];
    for (i, (name, make, region)) in cases.iter().enumerate() {
        let (id, secret) = (client_id(i as u64), genesys_secret(i as u64));
        let found = scan_one(name, &make(&id, &secret));
        assert_genesys(&found, "genesys-client-secret", &id, *region, name);
        assert_eq!(found[0]["path"], *name);
        assert_eq!(found[0]["confidence"], "high", "{name}");
        assert_eq!(found[0]["severity"], "critical");
    }
}

#[test]
fn secrets_one_layer_down() {
    let (id, s) = (client_id(100), genesys_secret(100));
    let curl = format!(
        "curl -s -X POST https://login.mypurecloud.de/oauth/token -u {id}:{s} -d grant_type=client_credentials\n"
    );
    assert_genesys(
        &scan_one("token.sh", &curl),
        "genesys-client-secret",
        &id,
        Some("mypurecloud.de"),
        "curl -u",
    );

    let (id, s) = (client_id(101), genesys_secret(101));
    let form = format!(
        "POST https://login.usw2.pure.cloud/oauth/token\nContent-Type: application/x-www-form-urlencoded\n\ngrant_type=client_credentials&client_id={id}&client_secret={s}\n"
    );
    assert_genesys(
        &scan_one("token.http", &form),
        "genesys-client-secret",
        &id,
        Some("usw2.pure.cloud"),
        "form body",
    );

    let (id, s) = (client_id(102), genesys_secret(102));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{s}"));
    let header = format!(
        "import requests\nr = requests.post('https://login.euc2.pure.cloud/oauth/token',\n    headers={{'Authorization': 'Basic {basic}'}},\n    data={{'grant_type': 'client_credentials'}})\n"
    );
    let found = scan_one("token.py", &header);
    assert_genesys(
        &found,
        "genesys-basic-credentials",
        &id,
        Some("euc2.pure.cloud"),
        "basic header",
    );
    // The fingerprint is that of the decoded secret, so the same credential is known everywhere.
    assert_eq!(
        found[0]["fingerprint"],
        leakgate::finding::Fingerprint::of(&"genesys-basic-credentials".parse().unwrap(), &s)
            .as_str()
    );
}

#[test]
fn genesys_shaped_pair_without_the_word_is_low_confidence() {
    let (id, s) = (client_id(200), genesys_secret(200));
    let text = format!("SERVICE_CLIENT_ID = \"{id}\"\nSERVICE_CLIENT_SECRET = \"{s}\"\n");
    let found = scan_one("settings.py", &text);
    assert_genesys(&found, "genesys-client-credentials-pair", &id, None, "pair");
    assert_eq!(found[0]["confidence"], "low");
}

#[test]
fn secret_without_client_id_is_reported_at_medium_confidence() {
    let s = genesys_secret(300);
    let found = scan_one("genesys.env", &format!("GENESYS_CLOUD_CLIENT_SECRET={s}\n"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["pair"]["id"], Value::Null);
    assert_eq!(found[0]["confidence"], "medium");
}

/// The published documentation examples, read from the rule file that lists them.
fn documentation_examples() -> Vec<String> {
    let rules = leakgate::rules::builtin();
    let rule = rules
        .iter()
        .find(|r| r.id == "genesys-client-secret")
        .unwrap();
    assert!(rule.allow_values.len() >= 2);
    rule.allow_values.clone()
}

#[test]
fn look_alikes_are_not_findings() {
    let id = client_id(400);
    let s = genesys_secret(400);
    let digest = {
        use sha2::Digest;
        let d = sha2::Sha384::digest(s.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(d)
    };
    let sha256_b64url = {
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(id.as_bytes()))
    };
    let hex = {
        use sha2::Digest;
        sha2::Sha256::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let doc = documentation_examples();
    let negatives: Vec<(&str, String)> = vec![
        ("env.py", "import os\n# genesys\nGENESYS_CLOUD_CLIENT_SECRET = os.environ['GENESYS_CLOUD_CLIENT_SECRET']\nsecret = os.getenv('GENESYS_CLOUD_CLIENT_SECRET')\n".into()),
        ("env.js", "// purecloud\nconst secret = process.env.GENESYS_CLOUD_CLIENT_SECRET;\nclient.loginClientCredentialsGrant(process.env.GENESYS_CLOUD_CLIENT_ID, secret);\n".into()),
        ("vars.tf", "provider \"genesyscloud\" {\n  oauthclient_id     = var.oauthclient_id\n  oauthclient_secret = var.oauthclient_secret\n  aws_region         = local.region\n}\n".into()),
        ("ci.yml", "env:\n  GENESYS_CLOUD_CLIENT_SECRET: ${{ secrets.GENESYS_CLOUD_CLIENT_SECRET }}\n  GENESYS_CLOUD_CLIENT_ID: \"{{ genesys_client_id }}\"\n".into()),
        ("template.env", "GENESYS_CLOUD_CLIENT_ID=${GENESYS_CLIENT_ID}\nGENESYS_CLOUD_CLIENT_SECRET=${GENESYS_CLIENT_SECRET}\n".into()),
        ("README.md", "Set GENESYS_CLOUD_CLIENT_SECRET=<your-client-secret> and GENESYS_CLOUD_CLIENT_SECRET=YOUR_CLIENT_SECRET, e.g. xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n".into()),
        ("low.env", format!("GENESYS_CLOUD_CLIENT_SECRET={}A\n", "ab".repeat(21))),
        ("docs.py", format!("# PureCloudPlatformClientV2 docs\nclient_id = '{id}'\nclient_secret = '{}'\nother = '{}'\n", doc[0], doc[1])),
        ("index.html", format!("<script src=\"https://apps.mypurecloud.com/widgets/9.0/cxbus.min.js\" integrity=\"sha384-{digest}\"></script>\n")),
        ("package-lock.json", format!("{{\"packages\": {{\"node_modules/purecloud-platform-client-v2\": {{\"integrity\": \"sha512-{digest}{digest}\", \"checksum\": \"{sha256_b64url}\"}}}}}}\n")),
        ("digests.txt", format!("purecloud artifact sha256 {hex}\n")),
        ("queues.tf", format!("resource \"genesyscloud_routing_queue\" \"q\" {{\n  id = \"{id}\"\n  division_id = \"{}\"\n}}\n", client_id(401))),
        ("login.js", format!("// genesys login with PKCE\nconst code_challenge = '{sha256_b64url}';\n")),
    ];
    for (name, text) in &negatives {
        let found = scan_one(name, text);
        assert!(found.is_empty(), "{name} should be clean: {found:#?}");
    }
}

#[test]
fn region_from_environment_variables() {
    let (id, s) = (client_id(500), genesys_secret(500));
    let text = format!(
        "GENESYS_CLOUD_REGION=mxc1.pure.cloud\nGENESYS_CLOUD_CLIENT_ID={id}\nGENESYS_CLOUD_CLIENT_SECRET={s}\n"
    );
    assert_genesys(
        &scan_one("a.env", &text),
        "genesys-client-secret",
        &id,
        Some("mxc1.pure.cloud"),
        "env region",
    );
}

#[test]
fn secrets_on_consecutive_lines_are_each_found() {
    let secrets: Vec<String> = (600..604).map(genesys_secret).collect();
    let text = format!(
        "# genesys cloud client secrets, one per line\n{}\n",
        secrets.join("\n")
    );
    let found = scan_one("secrets.txt", &text);
    let lines: Vec<u64> = found.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![2, 3, 4, 5], "{found:#?}");
}

/// A fresh access-token-shaped value (86 characters of base64url) for `seed`, built at test time.
fn access_token(seed: u64) -> String {
    const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..86)
        .map(|_| B64URL[rng.usize(..B64URL.len())] as char)
        .collect()
}

#[test]
fn access_tokens_beside_genesys_are_found_and_elsewhere_are_not() {
    let cases: Vec<(&str, Template)> = vec![
        (
            "client.js",
            Box::new(|_, t: &str| {
                format!("const platformClient = require('purecloud-platform-client-v2');\nplatformClient.ApiClient.instance.setAccessToken(\"{t}\");\n")
            }),
        ),
        (
            "call.sh",
            Box::new(|_, t: &str| {
                format!("curl -H 'Authorization: Bearer {t}' https://api.euw2.pure.cloud/api/v2/users/me\n")
            }),
        ),
        (
            "ci.env",
            Box::new(|_, t: &str| format!("GENESYS_CLOUD_ACCESS_TOKEN={t}\n")),
        ),
    ];
    for (i, (name, template)) in cases.iter().enumerate() {
        let token = access_token(900 + i as u64);
        let found = scan_one(name, &template("", &token));
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        let f = &found[0];
        assert_eq!(f["rule_id"], "genesys-access-token", "{name}: {f:#}");
        assert_eq!(f["pair"]["provider"], "genesys", "{name}: {f:#}");
        assert!(f
            .get("secret")
            .is_some_and(|s| !s.to_string().contains(&token[4..])));
    }
    // A region host in the context becomes the pair's host hint.
    let token = access_token(910);
    let found = scan_one(
        "call.sh",
        &format!(
            "curl -H 'Authorization: Bearer {token}' https://api.mypurecloud.de/api/v2/users/me\n"
        ),
    );
    assert_eq!(found[0]["pair"]["host"], "mypurecloud.de");
    // The same bearer header beside another service, and a placeholder, are not Genesys tokens
    // (another service's token may still be some other rule's finding).
    let token = access_token(911);
    let other = scan_one(
        "other.sh",
        &format!("curl -H 'Authorization: Bearer {token}' https://api.example.com/v1/items\n"),
    );
    assert!(
        other.iter().all(|f| f["rule_id"] != "genesys-access-token"),
        "{other:#?}"
    );
    assert!(scan_one(
        "client.js",
        "// purecloud\nclient.setAccessToken(process.env.GENESYS_CLOUD_ACCESS_TOKEN);\n"
    )
    .is_empty());
}
