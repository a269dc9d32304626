//! mosaic-sa: command-line front end. See rust/README.md.

use mosaic_sa_core::collect::collect;
use mosaic_sa_core::count::count_all;
use mosaic_sa_core::error::{Error, Result};
use mosaic_sa_core::files::{
    self, read_sa, read_tokens, sa_pointer_width, token_file_width, write_sa, AtomicFile, Corpus, OutHeader, U64Writer, RANGES_MAGIC,
    SELFSIM_MAGIC,
};
use mosaic_sa_core::sais::suffix_array_owned;
use mosaic_sa_core::scan::{scan, scan_reference, Select};
use mosaic_sa_core::selfsim::cluster_runs;
use mosaic_sa_core::util::{default_threads, doc_of, progress, Step};
use mosaic_sa_core::{Idx, Token};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

const USAGE: &str = "\
mosaic-sa: token-level suffix arrays, repeats, counting and near-duplicate scan

usage:
  mosaic-sa build        --tokens TOK --output SA [--threads N] [--parts K]
  mosaic-sa self-similar --tokens TOK --sa SA --length L --output OUT [--positions] [--threads N]
  mosaic-sa count        --tokens TOK --sa SA --queries QTOK --output OUT.jsonl [--positions] [--doc-ids] [--threads N]
  mosaic-sa scan         --tokens TOK --targets TTOK --output OUT.jsonl [--max-distance D] [--select levenshtein|hamming] [--threads N]
  mosaic-sa collect      --tokens TOK --sa SA --length L --output OUT [--mode keep-first|remove-all] [--threads N]
  mosaic-sa info         FILE
  mosaic-sa --help | --version

exit codes: 0 ok, 2 usage error, 3 bad input file, 4 i/o error, 101 internal error";

struct Args {
    vals: HashMap<String, String>,
    flags: Vec<String>,
    positional: Vec<String>,
}

impl Args {
    fn parse(raw: &[String], valued: &[&str], boolean: &[&str]) -> Result<Args> {
        let mut a = Args { vals: HashMap::new(), flags: Vec::new(), positional: Vec::new() };
        let mut i = 0;
        while i < raw.len() {
            let s = &raw[i];
            if let Some(name) = s.strip_prefix("--") {
                let (name, inline) = match name.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (name.to_string(), None),
                };
                if valued.contains(&name.as_str()) {
                    let v = match inline {
                        Some(v) => v,
                        None => {
                            i += 1;
                            raw.get(i).cloned().ok_or_else(|| Error::Usage(format!("--{name} needs a value")))?
                        }
                    };
                    if a.vals.insert(name.clone(), v).is_some() {
                        return Err(Error::Usage(format!("--{name} given twice")));
                    }
                } else if boolean.contains(&name.as_str()) && inline.is_none() {
                    a.flags.push(name);
                } else {
                    return Err(Error::Usage(format!("unknown option --{name}")));
                }
            } else {
                a.positional.push(s.clone());
            }
            i += 1;
        }
        Ok(a)
    }
    fn path(&self, name: &str) -> Result<PathBuf> {
        self.vals.get(name).map(PathBuf::from).ok_or_else(|| Error::Usage(format!("--{name} is required")))
    }
    fn num(&self, name: &str, default: Option<usize>) -> Result<usize> {
        match self.vals.get(name) {
            Some(v) => v.parse::<usize>().map_err(|_| Error::Usage(format!("--{name} must be a non-negative integer, got {v:?}"))),
            None => default.ok_or_else(|| Error::Usage(format!("--{name} is required"))),
        }
    }
    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
    fn threads(&self) -> Result<usize> {
        let t = self.num("threads", Some(default_threads()))?;
        if t == 0 {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        Ok(t)
    }
    fn no_positional(&self) -> Result<()> {
        match self.positional.first() {
            Some(p) => Err(Error::Usage(format!("unexpected argument {p:?}"))),
            None => Ok(()),
        }
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_list(v: impl Iterator<Item = u64>) -> String {
    let mut s = String::from("[");
    for (i, x) in v.enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&x.to_string());
    }
    s.push(']');
    s
}

fn corpus_json<T: Token>(c: &Corpus<T>) -> String {
    format!(
        "\"tokens\":{},\"token_width\":{},\"n_tokens\":{},\"n_docs\":{},\"token_file_size\":{},\"token_checksum\":\"{:016x}\"",
        json_str(&c.path.to_string_lossy()),
        T::WIDTH,
        c.header.n_tokens,
        c.header.n_docs,
        c.file_size,
        c.checksum
    )
}

fn load<T: Token>(path: &Path) -> Result<Corpus<T>> {
    let s = Step::new(format!("reading {}", path.display()));
    let c = read_tokens::<T>(path)?;
    s.done();
    progress(format!("{}: {} tokens, {} documents, width {}", path.display(), c.n(), c.header.n_docs, T::WIDTH));
    Ok(c)
}

fn length_arg(a: &Args) -> Result<usize> {
    let l = a.num("length", None)?;
    if l == 0 {
        return Err(Error::Usage("--length must be at least 1".into()));
    }
    Ok(l)
}

// ------------------------------------------------------------------- build

fn cmd_build(a: &Args) -> Result<()> {
    a.no_positional()?;
    let tok = a.path("tokens")?;
    let out = a.path("output")?;
    let threads = a.threads()?;
    let parts = a.num("parts", Some(1))?;
    if parts == 0 {
        return Err(Error::Usage("--parts must be at least 1".into()));
    }
    match token_file_width(&tok)? {
        2 => build_w::<u16>(&tok, &out, threads, parts),
        _ => build_w::<u32>(&tok, &out, threads, parts),
    }
}

fn build_w<T: Token>(tok: &Path, out: &Path, threads: usize, parts: usize) -> Result<()> {
    let mut c = load::<T>(tok)?;
    let n = c.n() as u64;
    let alpha = (1u64 << 24).max(n); // bound on the dense alphabet (see AlphaMap)
    if n + alpha + 2 < u32::MAX as u64 {
        build_i::<T, u32>(&mut c, out, threads, parts)
    } else {
        build_i::<T, u64>(&mut c, out, threads, parts)
    }
}

fn build_i<T: Token, I: Idx>(c: &mut Corpus<T>, out: &Path, threads: usize, parts: usize) -> Result<()> {
    let t0 = Instant::now();
    let s = Step::new(format!("suffix array of {} tokens ({}-byte pointers, {parts} part(s), {threads} thread(s))", c.n(), I::BYTES));
    let n = c.n();
    let text = std::mem::take(&mut c.text); // freed once its symbols are built
    let sa: Vec<I> = suffix_array_owned(text, c.header.vocab_size as usize, parts, threads);
    s.done();
    let s = Step::new(format!("writing {}", out.display()));
    write_sa(out, &c.fingerprint(), &sa)?;
    s.done();
    let secs = t0.elapsed().as_secs_f64();
    progress(format!("build: {:.2}s, {:.1} M tokens/s", secs, n as f64 / secs.max(1e-9) / 1e6));
    Ok(())
}

// ------------------------------------------------------- sa-based commands

/// Load the token file and its suffix array, then call `f`.
macro_rules! with_sa {
    ($tok:expr, $sa:expr, |$c:ident, $s:ident| $body:expr) => {{
        let tok: &Path = $tok;
        let sap: &Path = $sa;
        let w = token_file_width(tok)?;
        let pw = sa_pointer_width(sap)?;
        match (w, pw) {
            (2, 4) => {
                let $c = load::<u16>(tok)?;
                let $s: Vec<u32> = read_sa(sap, &$c)?;
                $body
            }
            (2, _) => {
                let $c = load::<u16>(tok)?;
                let $s: Vec<u64> = read_sa(sap, &$c)?;
                $body
            }
            (_, 4) => {
                let $c = load::<u32>(tok)?;
                let $s: Vec<u32> = read_sa(sap, &$c)?;
                $body
            }
            _ => {
                let $c = load::<u32>(tok)?;
                let $s: Vec<u64> = read_sa(sap, &$c)?;
                $body
            }
        }
    }};
}

fn cmd_self_similar(a: &Args) -> Result<()> {
    a.no_positional()?;
    let tok = a.path("tokens")?;
    let sap = a.path("sa")?;
    let out = a.path("output")?;
    let length = length_arg(a)?;
    let threads = a.threads()?;
    let pos = a.flag("positions");
    with_sa!(&tok, &sap, |c, sa| self_similar_run(&c, &sa, &out, length, pos, threads))
}

fn self_similar_run<T: Token, I: Idx>(c: &Corpus<T>, sa: &[I], out: &Path, length: usize, pos: bool, threads: usize) -> Result<()> {
    let s = Step::new(format!("self-similar length {length}"));
    let cl = cluster_runs(&c.text, sa, length, threads);
    s.done();
    let total = cl.occurrences();
    progress(format!("{} clusters, {} occurrences", cl.len(), total));
    let h = OutHeader {
        magic: *SELFSIM_MAGIC,
        pointer_width: 8,
        flags: pos as u32,
        fp: c.fingerprint(),
        param: length as u64,
        count1: cl.len() as u64,
        count2: if pos { total } else { 0 },
        param2: 0,
        payload_checksum: 0,
    };
    // streamed: the records, then each cluster's positions read from the suffix array
    let mut w = U64Writer::create(out, h)?;
    for (first, count) in cl.records() {
        w.push(first)?;
        w.push(count)?;
    }
    if pos {
        for i in 0..cl.len() {
            w.extend(&cl.positions(i))?;
        }
    }
    w.finish()
}

fn cmd_collect(a: &Args) -> Result<()> {
    a.no_positional()?;
    let tok = a.path("tokens")?;
    let sap = a.path("sa")?;
    let out = a.path("output")?;
    let length = length_arg(a)?;
    let threads = a.threads()?;
    let keep_first = match a.vals.get("mode").map(|s| s.as_str()).unwrap_or("keep-first") {
        "keep-first" => true,
        "remove-all" => false,
        m => return Err(Error::Usage(format!("--mode must be keep-first or remove-all, got {m:?}"))),
    };
    with_sa!(&tok, &sap, |c, sa| collect_run(&c, &sa, &out, length, keep_first, threads))
}

fn collect_run<T: Token, I: Idx>(c: &Corpus<T>, sa: &[I], out: &Path, length: usize, keep_first: bool, threads: usize) -> Result<()> {
    let s = Step::new(format!("collect length {length} ({})", if keep_first { "keep-first" } else { "remove-all" }));
    let r = collect(&c.text, sa, length, keep_first, threads);
    s.done();
    let covered: u64 = r.iter().map(|(a, b)| b - a).sum();
    progress(format!("{} ranges, {} tokens covered", r.len(), covered));
    let h = OutHeader {
        magic: *RANGES_MAGIC,
        pointer_width: 8,
        flags: 0,
        fp: c.fingerprint(),
        param: length as u64,
        count1: r.len() as u64,
        count2: covered,
        param2: if keep_first { 0 } else { 1 },
        payload_checksum: 0,
    };
    let mut w = U64Writer::create(out, h)?;
    for &(a, b) in &r {
        w.push(a)?;
        w.push(b)?;
    }
    w.finish()
}

fn load_sequences(path: &Path, what: &str) -> Result<Vec<Vec<u32>>> {
    fn go<T: Token>(path: &Path) -> Result<Vec<Vec<u32>>> {
        let c = read_tokens::<T>(path)?;
        Ok(c.docs().into_iter().map(|d| d.iter().map(|x| x.to_u32()).collect()).collect())
    }
    let s = Step::new(format!("reading {what} {}", path.display()));
    let v = match token_file_width(path)? {
        2 => go::<u16>(path),
        _ => go::<u32>(path),
    }?;
    s.done();
    Ok(v)
}

fn cmd_count(a: &Args) -> Result<()> {
    a.no_positional()?;
    let tok = a.path("tokens")?;
    let sap = a.path("sa")?;
    let qp = a.path("queries")?;
    let out = a.path("output")?;
    let threads = a.threads()?;
    let pos = a.flag("positions");
    let docs = a.flag("doc-ids");
    let queries = load_sequences(&qp, "queries")?;
    with_sa!(&tok, &sap, |c, sa| count_run(&c, &sa, &qp, &queries, &out, pos, docs, threads))
}

#[allow(clippy::too_many_arguments)]
fn count_run<T: Token, I: Idx>(
    c: &Corpus<T>,
    sa: &[I],
    qp: &Path,
    queries: &[Vec<u32>],
    out: &Path,
    pos: bool,
    docs: bool,
    threads: usize,
) -> Result<()> {
    for (i, q) in queries.iter().enumerate() {
        if q.is_empty() {
            return Err(Error::input(qp, format!("query {i} is empty")));
        }
        if q.len() > c.n() {
            return Err(Error::input(qp, format!("query {i} has {} tokens, longer than the corpus {} ({} tokens)", q.len(), c.path.display(), c.n())));
        }
    }
    let s = Step::new(format!("counting {} queries", queries.len()));
    let t0 = Instant::now();
    let ranges = count_all(&c.text, sa, queries, threads);
    let secs = t0.elapsed().as_secs_f64();
    s.done();
    progress(format!("{:.0} queries/s", queries.len() as f64 / secs.max(1e-9)));
    let mut f = AtomicFile::create(out)?;
    let head = format!(
        "{{\"format\":\"mosaic-sa.count\",\"version\":1,{},\"queries\":{},\"n_queries\":{},\"positions\":{pos},\"doc_ids\":{docs}}}\n",
        corpus_json(c),
        json_str(&qp.to_string_lossy()),
        queries.len()
    );
    f.write_all(head.as_bytes())?;
    for (i, &(lo, hi)) in ranges.iter().enumerate() {
        let mut line = format!("{{\"query\":{i},\"count\":{}", hi - lo);
        if pos || docs {
            let mut p: Vec<u64> = sa[lo..hi].iter().map(|x| x.to_usize() as u64).collect();
            p.sort_unstable();
            if pos {
                line.push_str(",\"positions\":");
                line.push_str(&json_list(p.iter().copied()));
            }
            if docs {
                line.push_str(",\"doc_ids\":");
                line.push_str(&json_list(p.iter().map(|&x| doc_of(&c.seps, x))));
            }
        }
        line.push_str("}\n");
        f.write_all(line.as_bytes())?;
    }
    f.commit()
}

fn cmd_scan(a: &Args) -> Result<()> {
    a.no_positional()?;
    let tok = a.path("tokens")?;
    let tp = a.path("targets")?;
    let out = a.path("output")?;
    let threads = a.threads()?;
    let d = a.num("max-distance", Some(50))?;
    let select = match a.vals.get("select").map(|s| s.as_str()).unwrap_or("levenshtein") {
        "levenshtein" => Select::Levenshtein,
        "hamming" => Select::Hamming,
        s => return Err(Error::Usage(format!("--select must be levenshtein or hamming, got {s:?}"))),
    };
    // hidden (benchmarks, README): `--algorithm reference` runs the previous scan
    let reference = match a.vals.get("algorithm").map(|s| s.as_str()).unwrap_or("pieces") {
        "pieces" => false,
        "reference" => true,
        s => return Err(Error::Usage(format!("--algorithm must be pieces or reference, got {s:?}"))),
    };
    let targets = load_sequences(&tp, "targets")?;
    if let Some(t0) = targets.first() {
        if t0.is_empty() {
            return Err(Error::input(&tp, "target 0 is empty"));
        }
        if let Some((i, t)) = targets.iter().enumerate().find(|(_, t)| t.len() != t0.len()) {
            return Err(Error::input(&tp, format!("target {i} has {} tokens, target 0 has {}: all targets must have the same length", t.len(), t0.len())));
        }
    }
    match token_file_width(&tok)? {
        2 => scan_run::<u16>(&load(&tok)?, &tp, &targets, &out, d, select, threads, reference),
        _ => scan_run::<u32>(&load(&tok)?, &tp, &targets, &out, d, select, threads, reference),
    }
}

#[allow(clippy::too_many_arguments)]
fn scan_run<T: Token>(c: &Corpus<T>, tp: &Path, targets: &[Vec<u32>], out: &Path, d: usize, select: Select, threads: usize, reference: bool) -> Result<()> {
    let m = targets.first().map(|t| t.len()).unwrap_or(0);
    let s = Step::new(format!("scanning {} tokens for {} targets of {m} tokens, max distance {d}", c.n(), targets.len()));
    let t0 = Instant::now();
    let res = if reference { scan_reference(&c.text, &c.seps, targets, d, select, threads) } else { scan(&c.text, &c.seps, targets, d, select, threads) };
    let secs = t0.elapsed().as_secs_f64();
    s.done();
    progress(format!("scan: {:.1} M tokens/s, {} matches", c.n() as f64 / secs.max(1e-9) / 1e6, res.iter().map(|v| v.len()).sum::<usize>()));
    let mut f = AtomicFile::create(out)?;
    let head = format!(
        "{{\"format\":\"mosaic-sa.scan\",\"version\":1,{},\"targets\":{},\"n_targets\":{},\"target_length\":{m},\"max_distance\":{d},\"select\":\"{}\"}}\n",
        corpus_json(c),
        json_str(&tp.to_string_lossy()),
        targets.len(),
        if select == Select::Levenshtein { "levenshtein" } else { "hamming" }
    );
    f.write_all(head.as_bytes())?;
    for (i, v) in res.iter().enumerate() {
        let line = format!(
            "{{\"target\":{i},\"n_matches\":{},\"positions\":{},\"doc_ids\":{},\"hamming\":{},\"levenshtein\":{}}}\n",
            v.len(),
            json_list(v.iter().map(|x| x.pos)),
            json_list(v.iter().map(|x| x.doc)),
            json_list(v.iter().map(|x| x.hamming as u64)),
            json_list(v.iter().map(|x| x.levenshtein as u64)),
        );
        f.write_all(line.as_bytes())?;
    }
    f.commit()
}

// -------------------------------------------------------------------- info

fn cmd_info(a: &Args) -> Result<()> {
    let p = match a.positional.as_slice() {
        [p] => PathBuf::from(p),
        _ => return Err(Error::Usage("info takes exactly one file".into())),
    };
    let mut head = [0u8; 8];
    {
        use std::io::Read;
        let mut f = std::fs::File::open(&p).map_err(|e| Error::io(&p, "cannot open", e))?;
        f.read_exact(&mut head).map_err(|_| Error::input(&p, "too short to hold a magic"))?;
    }
    let line = match &head {
        files::TOKEN_MAGIC => {
            fn go<T: Token>(p: &Path) -> Result<String> {
                let c = read_tokens::<T>(p)?;
                Ok(format!("{{\"kind\":\"tokens\",{},\"vocab_size\":{}}}", corpus_json(&c), c.header.vocab_size))
            }
            match token_file_width(&p)? {
                2 => go::<u16>(&p)?,
                _ => go::<u32>(&p)?,
            }
        }
        m => {
            let (kind, magic) = match m {
                files::SA_MAGIC => ("suffix_array", files::SA_MAGIC),
                files::SELFSIM_MAGIC => ("self_similar", files::SELFSIM_MAGIC),
                files::RANGES_MAGIC => ("ranges", files::RANGES_MAGIC),
                _ => return Err(Error::input(&p, "unknown file kind (magic not recognised)")),
            };
            let h = files::read_out_header(&p, magic, kind)?;
            format!(
                "{{\"kind\":\"{kind}\",\"token_width\":{},\"pointer_width\":{},\"flags\":{},\"n_tokens\":{},\"n_docs\":{},\"token_file_size\":{},\"token_checksum\":\"{:016x}\",\"param\":{},\"count1\":{},\"count2\":{},\"param2\":{}}}",
                h.fp.width, h.pointer_width, h.flags, h.fp.n_tokens, h.fp.n_docs, h.fp.file_size, h.fp.checksum, h.param, h.count1, h.count2, h.param2
            )
        }
    };
    println!("{line}");
    Ok(())
}

fn run(raw: Vec<String>) -> Result<()> {
    let Some(cmd) = raw.first() else {
        return Err(Error::Usage("no subcommand (try --help)".into()));
    };
    let rest = &raw[1..];
    match cmd.as_str() {
        "--help" | "-h" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        "--version" | "-V" => {
            println!("mosaic-sa {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        "build" => cmd_build(&Args::parse(rest, &["tokens", "output", "threads", "parts"], &[])?),
        "self-similar" => cmd_self_similar(&Args::parse(rest, &["tokens", "sa", "output", "length", "threads"], &["positions"])?),
        "count" => cmd_count(&Args::parse(rest, &["tokens", "sa", "queries", "output", "threads"], &["positions", "doc-ids"])?),
        "scan" => cmd_scan(&Args::parse(rest, &["tokens", "targets", "output", "threads", "max-distance", "select", "algorithm"], &[])?),
        "collect" => cmd_collect(&Args::parse(rest, &["tokens", "sa", "output", "length", "threads", "mode"], &[])?),
        "info" => cmd_info(&Args::parse(rest, &[], &[])?),
        other => Err(Error::Usage(format!("unknown subcommand {other:?} (try --help)"))),
    }
}

fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let t0 = Instant::now();
    let cmd = raw.first().cloned().unwrap_or_default();
    match run(raw) {
        Ok(()) => {
            if !cmd.starts_with('-') && cmd != "info" && cmd != "help" {
                progress(format!("{cmd}: ok in {:.2}s", t0.elapsed().as_secs_f64()));
            }
        }
        Err(e) => {
            eprintln!("mosaic-sa: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
