//! The only network code: checking Genesys credentials against the token endpoint and
//! containing live ones through the admin API.
