//! `report --html` on the sample ledger: every page loads in headless Chromium without a
//! console message, the overview and the timeline render to non-empty screenshots, and the
//! text of the pages is pinned.

use crate::util::TestRepo;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser; CI installs Debian's `chromium`, so a missing one is a failure, not a skip.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "chromium is not installed: the HTML report test needs it (apt-get install -y chromium; .ci/run installs it)"
    );
}

/// What Chromium did with one page.
struct Visit {
    stdout: String,
    stderr: String,
}

/// Open `page` headless, with `mode` (`--dump-dom` or `--screenshot=<png>`).
fn visit(page: &Path, profile: &Path, mode: &str) -> Visit {
    let output = Command::new(chromium())
        .env("HOME", profile)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(mode)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let visit = Visit {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        output.status.success(),
        "chromium failed on {}: {}",
        page.display(),
        visit.stderr
    );
    // The pages have no script, so any console message (an error, a refused load under the
    // content security policy) is a defect.
    let console: Vec<&str> = visit
        .stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("Refused to"))
        .collect();
    assert!(
        console.is_empty(),
        "console messages on {}:\n{}",
        page.display(),
        console.join("\n")
    );
    visit
}

/// The text a reader sees, one block per line: tags dropped, entities decoded, cells split
/// by `|`. The head (style, title) is left out.
fn text_of(html: &str) -> String {
    let body = html.split_once("<body>").map_or(html, |(_, b)| b);
    let mut out = String::new();
    let mut rest = body;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            break;
        };
        let tag = &rest[start + 1..start + end];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '>')
            .next()
            .unwrap_or("");
        match name {
            "td" | "th" if tag.starts_with('/') => out.push_str(" | "),
            "b" | "span" if tag.starts_with('/') => out.push(' '),
            "br" | "p" | "li" | "tr" | "h1" | "h2" | "h3" | "dt" | "dd" | "div" | "nav"
            | "footer" | "table" | "ul" => out.push('\n'),
            "a" if !tag.starts_with('/') && name == "a" => out.push(' '),
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn read(dir: &Path, page: &str) -> String {
    std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"))
}

#[test]
fn report_of_the_sample_ledger_loads_in_chromium_and_its_text_is_pinned() {
    let repo = TestRepo::sample();
    let dir = repo.root().join("site");
    let audit_checkpoint = repo.path.join(".git/ledger/audit-checkpoint");
    let data = repo.json(&["report", "--html", dir.to_str().expect("utf-8 path")]);

    let pages: Vec<&str> = data["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|p| p["path"].as_str().expect("path"))
        .collect();
    for page in [
        "index.html",
        "timeline.html",
        "objectives.html",
        "tasks.html",
        "decisions.html",
        "knowledge.html",
        "audit.html",
    ] {
        assert!(pages.contains(&page), "{page} missing from {pages:?}");
    }
    let tasks = repo.json(&["task", "list"]);
    let task_count = tasks.as_array().expect("tasks").len();
    assert_eq!(
        pages.iter().filter(|p| p.starts_with("tasks/")).count(),
        task_count,
        "a page per task"
    );
    assert_eq!(
        pages
            .iter()
            .filter(|p| p.starts_with("objectives/"))
            .count(),
        2,
        "a page per objective"
    );
    assert!(
        !audit_checkpoint.exists(),
        "the report shows the audit verdict without moving the checkpoint"
    );

    let blocked = tasks
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["status"] == "blocked")
        .and_then(|t| t["id"].as_str())
        .expect("the sample has a blocked task")
        .to_string();
    let task_page = format!("tasks/{blocked}.html");
    let objective_page = pages
        .iter()
        .find(|p| p.starts_with("objectives/"))
        .expect("an objective page")
        .to_string();

    // Every kind of page in the browser, in parallel (each start of Chromium takes a while).
    let profile_root = repo.root().join("chromium");
    let shots: Vec<(String, PathBuf)> = ["index.html", "timeline.html"]
        .iter()
        .map(|p| (p.to_string(), repo.root().join(p.replace(".html", ".png"))))
        .collect();
    std::thread::scope(|scope| {
        let mut runs = Vec::new();
        for (i, (page, png)) in shots.iter().enumerate() {
            let profile = profile_root.join(format!("shot{i}"));
            let page = dir.join(page);
            runs.push(scope.spawn(move || {
                visit(&page, &profile, &format!("--screenshot={}", png.display()));
            }));
        }
        for (i, page) in [
            "index.html",
            task_page.as_str(),
            objective_page.as_str(),
            "audit.html",
        ]
        .iter()
        .enumerate()
        {
            let profile = profile_root.join(format!("dom{i}"));
            let page = dir.join(page);
            runs.push(scope.spawn(move || {
                let visit = visit(&page, &profile, "--dump-dom");
                assert!(
                    visit.stdout.contains("</main>"),
                    "{} rendered no page: {}",
                    page.display(),
                    visit.stdout
                );
            }));
        }
        for run in runs {
            if let Err(panic) = run.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    for (page, png) in &shots {
        let size = std::fs::metadata(png)
            .unwrap_or_else(|e| panic!("no screenshot of {page}: {e}"))
            .len();
        // A blank 1200×900 PNG is a few KB; a rendered page with text and bars is far more.
        assert!(
            size > 20_000,
            "the screenshot of {page} is nearly empty ({size} bytes)"
        );
    }

    insta::assert_snapshot!("report_index", text_of(&read(&dir, "index.html")));
    insta::assert_snapshot!("report_timeline", text_of(&read(&dir, "timeline.html")));
    insta::assert_snapshot!("report_task", text_of(&read(&dir, &task_page)));
    insta::assert_snapshot!("report_objective", text_of(&read(&dir, &objective_page)));
    insta::assert_snapshot!("report_decisions", text_of(&read(&dir, "decisions.html")));
    insta::assert_snapshot!("report_knowledge", text_of(&read(&dir, "knowledge.html")));
    insta::assert_snapshot!("report_audit", text_of(&read(&dir, "audit.html")));
}

#[test]
fn ledger_text_is_escaped_and_ids_never_leave_the_site() {
    let repo = TestRepo::new();
    repo.task(&["<script>alert(1)</script> & \"quotes\" 'too'"]);
    let dir = repo.root().join("site");
    repo.ok(&["report", "--html", dir.to_str().expect("utf-8 path")]);
    let tasks = read(&dir, "tasks.html");
    assert!(!tasks.contains("<script>"), "{tasks}");
    // Single quotes stay: every attribute is double-quoted.
    assert!(
        tasks.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; 'too'"),
        "{tasks}"
    );
    for entry in std::fs::read_dir(dir.join("tasks")).expect("tasks dir") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(name.starts_with("t-") && name.ends_with(".html"), "{name}");
    }
}

#[test]
fn report_into_a_file_fails_with_one_line() {
    let repo = TestRepo::new();
    let file = repo.root().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let stderr = repo.fail(&["report", "--html", file.to_str().expect("utf-8 path")]);
    assert!(stderr.contains("exists and is not a directory"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    let stderr = repo.run(&["report"]).stderr;
    assert!(stderr.contains("--html"), "{stderr}");
}
