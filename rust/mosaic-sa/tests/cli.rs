//! End-to-end tests of the binary: files in, files out, named errors.

use mosaic_sa_core::files::{self, read_u64_file, write_tokens, RANGES_MAGIC, SELFSIM_MAGIC};
use mosaic_sa_core::{naive, Token};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mosaic-sa");

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mosaic-sa-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN).args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?} failed: {err}");
    out
}

/// Fails with `code` and a last stderr line containing `needle`.
fn fails(args: &[&str], code: i32, needle: &str) {
    let (c, _, err) = run(args);
    let last = err.lines().last().unwrap_or("").to_string();
    assert_eq!(c, code, "{args:?}: {err}");
    assert!(last.contains(needle), "{args:?}: last stderr line {last:?} lacks {needle:?}");
    assert!(last.starts_with("mosaic-sa: "), "{last}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn docs() -> Vec<Vec<u16>> {
    let base: Vec<u16> = (0..60).map(|i| (i * 7 % 61) as u16).collect();
    let mut d = vec![base.clone(), (0..40).map(|i| (i % 5) as u16).collect(), base.clone()];
    let mut near = base.clone();
    near[10] = 99;
    near.insert(30, 98);
    d.push(near);
    d.push(vec![]);
    d.push(base[..30].to_vec());
    d
}

#[test]
fn pipeline_roundtrip() {
    let d = tmpdir("roundtrip");
    let tok = d.join("c.tok");
    let docs = docs();
    write_tokens(&tok, &docs, 100).unwrap();
    let text: Vec<u16> = files::read_tokens::<u16>(&tok).unwrap().text;
    let sa = d.join("c.sa");
    ok(&["build", "--tokens", s(&tok), "--output", s(&sa), "--threads", "2", "--parts", "3"]);
    let sa1 = d.join("c1.sa");
    ok(&["build", "--tokens", s(&tok), "--output", s(&sa1), "--threads", "1"]);
    assert_eq!(std::fs::read(&sa).unwrap(), std::fs::read(&sa1).unwrap(), "parts and single build differ");
    let info = ok(&["info", s(&sa)]);
    assert!(info.contains("\"kind\":\"suffix_array\"") && info.contains("\"pointer_width\":4"), "{info}");

    // self-similar
    let ss = d.join("c.ss");
    ok(&["self-similar", "--tokens", s(&tok), "--sa", s(&sa), "--length", "20", "--output", s(&ss), "--positions"]);
    let (h, payload) = read_u64_file(&ss, SELFSIM_MAGIC, "self-similar").unwrap();
    let want = naive::self_similar(&text, 20, true);
    assert_eq!(h.count1 as usize, want.first.len());
    let nc = want.first.len();
    let firsts: Vec<u64> = (0..nc).map(|i| payload[2 * i]).collect();
    let counts: Vec<u64> = (0..nc).map(|i| payload[2 * i + 1]).collect();
    assert_eq!(firsts, want.first);
    assert_eq!(counts, want.count);
    assert_eq!(&payload[2 * nc..], want.positions.unwrap().as_slice());

    // collect
    let rg = d.join("c.rg");
    ok(&["collect", "--tokens", s(&tok), "--sa", s(&sa), "--length", "20", "--output", s(&rg), "--mode", "remove-all"]);
    let (h, payload) = read_u64_file(&rg, RANGES_MAGIC, "ranges").unwrap();
    let want = naive::collect(&text, 20, false);
    assert_eq!(h.param2, 1);
    assert_eq!(payload, want.iter().flat_map(|&(a, b)| [a, b]).collect::<Vec<_>>());

    // count: queries = the first 20 tokens of doc 0, the "near" doc's prefix, one absent
    let q = d.join("q.tok");
    let queries: Vec<Vec<u16>> = vec![docs[0][..20].to_vec(), docs[3][..12].to_vec(), vec![97, 96]];
    write_tokens(&q, &queries, 100).unwrap();
    let cnt = d.join("count.jsonl");
    ok(&["count", "--tokens", s(&tok), "--sa", s(&sa), "--queries", s(&q), "--output", s(&cnt), "--positions", "--doc-ids"]);
    let body = std::fs::read_to_string(&cnt).unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].contains("\"format\":\"mosaic-sa.count\""));
    for (i, qq) in queries.iter().enumerate() {
        let qu: Vec<u32> = qq.iter().map(|&x| x as u32).collect();
        let pos = naive::count(&text, &qu);
        assert!(lines[i + 1].contains(&format!("\"count\":{}", pos.len())), "{}", lines[i + 1]);
        let p = pos.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
        assert!(lines[i + 1].contains(&format!("\"positions\":[{p}]")), "{}", lines[i + 1]);
    }
    assert!(lines[1].contains("\"doc_ids\":[0,2,5]"), "{}", lines[1]);

    // scan: target = doc 0, planted near copy in doc 3
    let tg = d.join("t.tok");
    write_tokens(&tg, &[docs[0].clone()], 100).unwrap();
    let sc = d.join("scan.jsonl");
    ok(&["scan", "--tokens", s(&tok), "--targets", s(&tg), "--output", s(&sc), "--max-distance", "5"]);
    let body = std::fs::read_to_string(&sc).unwrap();
    let line = body.lines().nth(1).unwrap();
    assert!(line.contains("\"doc_ids\":[0,2,3]"), "{line}");
    assert!(line.contains("\"levenshtein\":[0,0,3]"), "{line}");
    // the hidden `--algorithm reference` (previous scan) writes the same bytes
    let sc2 = d.join("scan_ref.jsonl");
    for sel in ["levenshtein", "hamming"] {
        ok(&["scan", "--tokens", s(&tok), "--targets", s(&tg), "--output", s(&sc), "--max-distance", "5", "--select", sel]);
        ok(&["scan", "--tokens", s(&tok), "--targets", s(&tg), "--output", s(&sc2), "--max-distance", "5", "--select", sel, "--algorithm", "reference", "--threads", "3"]);
        assert_eq!(std::fs::read(&sc).unwrap(), std::fs::read(&sc2).unwrap(), "{sel}");
    }
    fails(&["scan", "--tokens", s(&tok), "--targets", s(&tg), "--output", s(&sc2), "--algorithm", "fast"], 2, "--algorithm");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_inputs_are_named_errors() {
    let d = tmpdir("bad");
    let tok = d.join("c.tok");
    write_tokens(&tok, &docs(), 100).unwrap();
    let sa = d.join("c.sa");
    ok(&["build", "--tokens", s(&tok), "--output", s(&sa)]);

    // truncated token file
    let bytes = std::fs::read(&tok).unwrap();
    let trunc = d.join("trunc.tok");
    std::fs::write(&trunc, &bytes[..bytes.len() - 3]).unwrap();
    fails(&["build", "--tokens", s(&trunc), "--output", s(&d.join("x.sa"))], 3, "truncated");
    assert!(!d.join("x.sa").exists());
    // foreign file
    let foreign = d.join("foreign.tok");
    std::fs::write(&foreign, vec![7u8; 200]).unwrap();
    fails(&["build", "--tokens", s(&foreign), "--output", s(&d.join("x.sa"))], 3, "not a token file");
    // wrong width: a header claiming width 3, and a width-4 header over u16 data
    let mut w3 = bytes.clone();
    w3[12] = 3;
    let p3 = d.join("w3.tok");
    std::fs::write(&p3, &w3).unwrap();
    fails(&["build", "--tokens", s(&p3), "--output", s(&d.join("x.sa"))], 3, "token width 3");
    let mut w4 = bytes.clone();
    w4[12] = 4;
    let p4 = d.join("w4.tok");
    std::fs::write(&p4, &w4).unwrap();
    fails(&["build", "--tokens", s(&p4), "--output", s(&d.join("x.sa"))], 3, "w4.tok");
    assert!(files::read_tokens::<u32>(&tok).is_err());
    // header / suffix array mismatch
    let other = d.join("other.tok");
    let mut od = docs();
    od[0][0] = 42;
    write_tokens(&other, &od, 100).unwrap();
    fails(&["self-similar", "--tokens", s(&other), "--sa", s(&sa), "--length", "5", "--output", s(&d.join("o"))], 3, "different token file");
    // corrupt suffix array payload
    let mut sab = std::fs::read(&sa).unwrap();
    let l = sab.len();
    sab[l - 1] ^= 1;
    let bad_sa = d.join("bad.sa");
    std::fs::write(&bad_sa, &sab).unwrap();
    fails(&["count", "--tokens", s(&tok), "--sa", s(&bad_sa), "--queries", s(&tok), "--output", s(&d.join("o"))], 3, "corrupt");
    // query longer than the corpus
    let q = d.join("q.tok");
    write_tokens::<u16>(&q, &[vec![1; 1000]], 100).unwrap();
    fails(&["count", "--tokens", s(&tok), "--sa", s(&sa), "--queries", s(&q), "--output", s(&d.join("o"))], 3, "longer than the corpus");
    // length 0
    fails(&["self-similar", "--tokens", s(&tok), "--sa", s(&sa), "--length", "0", "--output", s(&d.join("o"))], 2, "--length must be at least 1");
    fails(&["collect", "--tokens", s(&tok), "--sa", s(&sa), "--length", "0", "--output", s(&d.join("o"))], 2, "--length must be at least 1");
    // usage errors
    fails(&["build", "--tokens", s(&tok)], 2, "--output is required");
    fails(&["frobnicate"], 2, "unknown subcommand");
    fails(&["build", "--tokens", s(&tok), "--output", s(&sa), "--bogus", "1"], 2, "unknown option --bogus");
    // missing file
    fails(&["build", "--tokens", s(&d.join("nope.tok")), "--output", s(&sa)], 4, "nope.tok");
    // targets of unequal length
    let tg = d.join("tg.tok");
    write_tokens::<u16>(&tg, &[vec![1; 10], vec![2; 11]], 100).unwrap();
    fails(&["scan", "--tokens", s(&tok), "--targets", s(&tg), "--output", s(&d.join("o"))], 3, "same length");
    // vocabulary that does not fit / tokens beyond the vocab
    let mut bigv = bytes.clone();
    bigv[32..40].copy_from_slice(&70000u64.to_le_bytes());
    let pv = d.join("bigv.tok");
    std::fs::write(&pv, &bigv).unwrap();
    fails(&["build", "--tokens", s(&pv), "--output", s(&d.join("x.sa"))], 3, "does not fit");
    let mut smallv = bytes.clone();
    smallv[32..40].copy_from_slice(&5u64.to_le_bytes());
    let ps = d.join("smallv.tok");
    std::fs::write(&ps, &smallv).unwrap();
    fails(&["build", "--tokens", s(&ps), "--output", s(&d.join("x.sa"))], 3, "not below the vocab size");
    // document count mismatch
    let mut dc = bytes.clone();
    dc[24] ^= 1;
    let pd = d.join("docs.tok");
    std::fs::write(&pd, &dc).unwrap();
    fails(&["build", "--tokens", s(&pd), "--output", s(&d.join("x.sa"))], 3, "separators");
    let _ = std::fs::remove_dir_all(&d);
    let _ = u16::SEP;
}

/// Names in `dir` that look like our temporary files.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".tmp."))
        .collect()
}

#[test]
fn failed_rename_leaves_no_temporary_file() {
    // --output names an existing directory: everything is computed and written,
    // then the rename fails (exit 4); the full-size temporary must be gone.
    let d = tmpdir("rename");
    let tok = d.join("c.tok");
    write_tokens(&tok, &docs(), 100).unwrap();
    let sa = d.join("c.sa");
    ok(&["build", "--tokens", s(&tok), "--output", s(&sa)]);
    let tg = d.join("t.tok");
    write_tokens(&tg, &[docs()[0].clone()], 100).unwrap();
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep"), b"x").unwrap();
    let o = s(&out);
    let cmds: Vec<Vec<&str>> = vec![
        vec!["build", "--tokens", s(&tok), "--output", o],
        vec!["build", "--tokens", s(&tok), "--output", o, "--parts", "2", "--threads", "2"],
        vec!["self-similar", "--tokens", s(&tok), "--sa", s(&sa), "--length", "5", "--output", o, "--positions"],
        vec!["collect", "--tokens", s(&tok), "--sa", s(&sa), "--length", "5", "--output", o],
        vec!["count", "--tokens", s(&tok), "--sa", s(&sa), "--queries", s(&tg), "--output", o],
        vec!["scan", "--tokens", s(&tok), "--targets", s(&tg), "--output", o, "--max-distance", "5"],
    ];
    for c in &cmds {
        fails(c, 4, "rename failed");
        assert_eq!(leftovers(&d), Vec::<String>::new(), "{c:?} left a temporary file");
        assert!(out.is_dir() && out.join("keep").exists(), "{c:?} touched the directory");
    }
    let _ = std::fs::remove_dir_all(&d);
}
