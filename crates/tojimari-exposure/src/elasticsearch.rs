//! Elasticsearch / OpenSearch REST API: whether it answers without credentials.
//!
//! `GET /` answering 200 with the cluster's JSON banner means no authentication; 401 means security is on.
//! `GET /_cat/indices?format=json` then counts the indices anyone can read. Both requests are read-only.

use serde_json::Value;

use crate::active::Outcome;
use crate::catalog::{self, finding};
use crate::context::CheckContext;
use crate::exchange::Result;
use crate::http;

/// The cluster banner's facts when `GET /` answered 200 with Elasticsearch's JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banner {
    pub cluster_name: Option<String>,
    pub version: Option<String>,
}

pub fn parse_banner(response: &http::Response) -> Option<Banner> {
    if response.status != 200 {
        return None;
    }
    let json: Value = serde_json::from_slice(&response.body).ok()?;
    let looks_like_es = json.get("cluster_name").is_some() || json.get("tagline").is_some();
    looks_like_es.then(|| Banner {
        cluster_name: json.get("cluster_name").and_then(Value::as_str).map(String::from),
        version: json.pointer("/version/number").and_then(Value::as_str).map(String::from),
    })
}

/// The number of indices in a `_cat/indices?format=json` answer.
pub fn index_count(response: &http::Response) -> Option<usize> {
    if response.status != 200 {
        return None;
    }
    serde_json::from_slice::<Value>(&response.body).ok()?.as_array().map(Vec::len)
}

pub(crate) async fn check(ctx: &CheckContext<'_>) -> Result<Outcome> {
    let root = http::get(ctx.addr, "/").await?;
    let mut out = Outcome::default();
    let Some(banner) = parse_banner(&root) else { return Ok(out) };
    let mut evidence = format!("GET / at {} answered 200 without credentials", ctx.addr);
    if let Some(name) = &banner.cluster_name {
        evidence.push_str(&format!(": cluster_name \"{name}\""));
    }
    if let Some(version) = &banner.version {
        evidence.push_str(&format!(", version {version}"));
    }
    if let Ok(indices) = http::get(ctx.addr, "/_cat/indices?format=json").await
        && let Some(n) = index_count(&indices)
    {
        evidence.push_str(&format!("; GET /_cat/indices lists {n} index(es)"));
    }
    out.findings.push(finding(catalog::ELASTICSEARCH_NOAUTH, evidence));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> http::Response {
        http::Response { status, body: body.as_bytes().to_vec() }
    }

    #[test]
    fn banner_needs_200_and_es_json() {
        let body =
            r#"{"name":"n1","cluster_name":"prod","version":{"number":"8.13.0"},"tagline":"You Know, for Search"}"#;
        let banner = parse_banner(&response(200, body)).unwrap();
        assert_eq!(banner.cluster_name.as_deref(), Some("prod"));
        assert_eq!(banner.version.as_deref(), Some("8.13.0"));
        assert_eq!(parse_banner(&response(401, body)), None);
        assert_eq!(parse_banner(&response(200, "<html>hello</html>")), None);
        assert_eq!(parse_banner(&response(200, r#"{"status":"ok"}"#)), None);
    }

    #[test]
    fn indices_are_counted() {
        assert_eq!(index_count(&response(200, r#"[{"index":"a"},{"index":"b"}]"#)), Some(2));
        assert_eq!(index_count(&response(403, "[]")), None);
    }
}
