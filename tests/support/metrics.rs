//! `/metrics` as Prometheus reads it.

/// `/metrics` text parsed by Prometheus' reference parser (prometheus_client).
pub fn parse_metrics(text: &str) -> Vec<Family> {
    let parser = super::cache_dir().join("venv/bin/python");
    let mut child = std::process::Command::new(parser)
        .args([
            "-c",
            "import sys, json\n\
             from prometheus_client.parser import text_string_to_metric_families\n\
             out = [[f.name, f.type, [[s.name, s.labels, s.value] for s in f.samples]] \
                    for f in text_string_to_metric_families(sys.stdin.read())]\n\
             print(json.dumps(out))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (name, type, samples as (name, labels, value)), as the reference parser sees the exposition.
pub type Family = (
    String,
    String,
    Vec<(String, std::collections::HashMap<String, String>, f64)>,
);

/// The value of the first sample called `name` whose label `label.0` is `label.1`, in any family.
pub fn sample(families: &[Family], name: &str, label: (&str, &str)) -> Option<f64> {
    families
        .iter()
        .flat_map(|f| f.2.iter())
        .find(|s| s.0 == name && s.1.get(label.0).map(String::as_str) == Some(label.1))
        .map(|s| s.2)
}
