//! File formats: token files, offsets files and the derived binary files
//! (suffix arrays, self-similar clusters, collected ranges). All little-endian.
//! The byte layouts are documented in `rust/README.md`.

use crate::error::{Error, Result};
use crate::{Idx, Token};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const TOKEN_MAGIC: &[u8; 8] = b"MOSAICTK";
pub const OFFSETS_MAGIC: &[u8; 8] = b"MOSAICOF";
pub const SA_MAGIC: &[u8; 8] = b"MOSAICSA";
pub const SELFSIM_MAGIC: &[u8; 8] = b"MOSAICSS";
pub const RANGES_MAGIC: &[u8; 8] = b"MOSAICRG";
pub const VERSION: u32 = 1;
pub const TOKEN_HEADER_LEN: usize = 64;
pub const OFFSETS_HEADER_LEN: usize = 64;
pub const OUT_HEADER_LEN: usize = 128;

// ---------------------------------------------------------------- checksum

const P: u64 = 0x9E37_79B9_7F4A_7C15;

/// Streaming 64-bit checksum of a byte payload (not cryptographic).
/// Definition: the payload is read as little-endian u64 words (the last one
/// zero-padded); word i is mixed into lane i mod 4 as `h = (h ^ w) * P`
/// (wrapping), lanes start at 1, 2, 3, 4; the result folds the byte length and
/// the lanes: `r = len; for h in lanes { r = ((r ^ h) * P).rotate_left(29) }`.
#[derive(Clone)]
pub struct Checksum {
    lanes: [u64; 4],
    len: u64,
    pending: Vec<u8>,
    word_index: u64,
}

impl Default for Checksum {
    fn default() -> Self {
        Self::new()
    }
}

impl Checksum {
    pub fn new() -> Checksum {
        Checksum { lanes: [1, 2, 3, 4], len: 0, pending: Vec::new(), word_index: 0 }
    }
    #[inline]
    fn word(&mut self, w: u64) {
        let l = (self.word_index & 3) as usize;
        self.lanes[l] = (self.lanes[l] ^ w).wrapping_mul(P);
        self.word_index += 1;
    }
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if !self.pending.is_empty() {
            while !bytes.is_empty() && self.pending.len() < 8 {
                self.pending.push(bytes[0]);
                bytes = &bytes[1..];
            }
            if self.pending.len() == 8 {
                let w = u64::from_le_bytes(self.pending[..8].try_into().unwrap());
                self.pending.clear();
                self.word(w);
            }
        }
        // aligned fast path: 4 words at a time
        let mut chunks = bytes.chunks_exact(32);
        for c in &mut chunks {
            for k in 0..4 {
                let w = u64::from_le_bytes(c[k * 8..k * 8 + 8].try_into().unwrap());
                self.word(w);
            }
        }
        let rest = chunks.remainder();
        let mut words = rest.chunks_exact(8);
        for c in &mut words {
            self.word(u64::from_le_bytes(c.try_into().unwrap()));
        }
        self.pending.extend_from_slice(words.remainder());
    }
    pub fn finish(&self) -> u64 {
        let mut s = self.clone();
        if !s.pending.is_empty() {
            let mut b = [0u8; 8];
            b[..s.pending.len()].copy_from_slice(&s.pending);
            s.pending.clear();
            s.word(u64::from_le_bytes(b));
        }
        let mut r = s.len;
        for h in s.lanes {
            r = (r ^ h).wrapping_mul(P).rotate_left(29);
        }
        r
    }
}

pub fn checksum_bytes(b: &[u8]) -> u64 {
    let mut c = Checksum::new();
    c.update(b);
    c.finish()
}

// ---------------------------------------------------------------- raw views

/// View a slice of plain integers as bytes (little-endian target).
pub fn as_bytes<T: Copy>(v: &[T]) -> &[u8] {
    unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
}

fn as_bytes_mut<T: Copy>(v: &mut [T]) -> &mut [u8] {
    unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, std::mem::size_of_val(v)) }
}

/// Read exactly `count` integers of type `T` from `r` into a new vector.
fn read_vec<T: Copy + Default>(r: &mut impl Read, count: usize, path: &Path) -> Result<Vec<T>> {
    let mut v = vec![T::default(); count];
    r.read_exact(as_bytes_mut(&mut v)).map_err(|e| Error::io(path, "reading payload", e))?;
    Ok(v)
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

fn open(path: &Path) -> Result<(File, u64)> {
    let f = File::open(path).map_err(|e| Error::io(path, "cannot open", e))?;
    let len = f.metadata().map_err(|e| Error::io(path, "cannot stat", e))?.len();
    Ok((f, len))
}

fn read_header(f: &mut File, len: u64, n: usize, path: &Path, what: &str) -> Result<Vec<u8>> {
    if len < n as u64 {
        return Err(Error::input(path, format!("not a {what}: {len} bytes, shorter than its {n}-byte header")));
    }
    let mut h = vec![0u8; n];
    f.read_exact(&mut h).map_err(|e| Error::io(path, "reading header", e))?;
    Ok(h)
}

// ---------------------------------------------------------------- atomic output

/// A file written under a temporary name in the same directory and renamed to
/// its final name by `commit`. Dropped without commit, the temporary is removed.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    w: Option<BufWriter<File>>,
}

impl AtomicFile {
    pub fn create(dest: &Path) -> Result<AtomicFile> {
        let name = dest
            .file_name()
            .ok_or_else(|| Error::Usage(format!("{}: not a file path", dest.display())))?
            .to_string_lossy()
            .to_string();
        let tmp = dest.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
        let f = File::create(&tmp).map_err(|e| Error::io(&tmp, "cannot create", e))?;
        Ok(AtomicFile { tmp, dest: dest.to_path_buf(), w: Some(BufWriter::with_capacity(1 << 20, f)) })
    }
    pub fn write_all(&mut self, b: &[u8]) -> Result<()> {
        let tmp = self.tmp.clone();
        self.w.as_mut().unwrap().write_all(b).map_err(|e| Error::io(&tmp, "write failed", e))
    }
    /// Overwrite the first bytes of the file (a header written as a placeholder),
    /// then go on writing at the end.
    pub fn rewrite_start(&mut self, b: &[u8]) -> Result<()> {
        let tmp = self.tmp.clone();
        let w = self.w.as_mut().unwrap();
        let r = (|| {
            w.seek(SeekFrom::Start(0))?;
            w.write_all(b)?;
            w.seek(SeekFrom::End(0)).map(|_| ())
        })();
        r.map_err(|e| Error::io(&tmp, "rewriting the header failed", e))
    }
    /// Flush, sync and rename to the final name. On any failure (flush, sync
    /// or rename, e.g. the destination is a directory) the temporary file is
    /// removed before the error is returned: a failed run leaves nothing.
    pub fn commit(mut self) -> Result<()> {
        let w = self.w.take().unwrap();
        let r = (|| {
            let f = w.into_inner().map_err(|e| Error::io(&self.tmp, "flush failed", e.into_error()))?;
            f.sync_all().map_err(|e| Error::io(&self.tmp, "sync failed", e))?;
            drop(f);
            std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&self.dest, "rename failed", e))
        })();
        if r.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        r
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Some(writer): dropped without commit (commit cleans up after itself)
        if self.w.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.w.as_mut().unwrap().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.w.as_mut().unwrap().flush()
    }
}

// ---------------------------------------------------------------- token files

/// The 64-byte header of a token file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHeader {
    pub width: u32,
    pub n_tokens: u64,
    pub n_docs: u64,
    pub vocab_size: u64,
    pub separator: u32,
}

impl TokenHeader {
    pub fn to_bytes(&self) -> [u8; TOKEN_HEADER_LEN] {
        let mut b = [0u8; TOKEN_HEADER_LEN];
        b[0..8].copy_from_slice(TOKEN_MAGIC);
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.width.to_le_bytes());
        b[16..24].copy_from_slice(&self.n_tokens.to_le_bytes());
        b[24..32].copy_from_slice(&self.n_docs.to_le_bytes());
        b[32..40].copy_from_slice(&self.vocab_size.to_le_bytes());
        b[40..44].copy_from_slice(&self.separator.to_le_bytes());
        b
    }
}

/// Width (2 or 4) of a token file, read from its header (validated).
pub fn token_file_width(path: &Path) -> Result<u32> {
    let (mut f, len) = open(path)?;
    let h = read_header(&mut f, len, TOKEN_HEADER_LEN, path, "token file")?;
    Ok(parse_token_header(&h, len, path)?.width)
}

fn parse_token_header(h: &[u8], len: u64, path: &Path) -> Result<TokenHeader> {
    if &h[0..8] != TOKEN_MAGIC {
        return Err(Error::input(path, "not a token file (magic is not MOSAICTK)"));
    }
    let version = u32_at(h, 8);
    if version != VERSION {
        return Err(Error::input(path, format!("token file version {version} is not supported (expected {VERSION})")));
    }
    let width = u32_at(h, 12);
    if width != 2 && width != 4 {
        return Err(Error::input(path, format!("token width {width} is not 2 or 4")));
    }
    let th = TokenHeader {
        width,
        n_tokens: u64_at(h, 16),
        n_docs: u64_at(h, 24),
        vocab_size: u64_at(h, 32),
        separator: u32_at(h, 40),
    };
    let sep_expected: u32 = if width == 2 { u16::MAX as u32 } else { u32::MAX };
    if th.separator != sep_expected {
        return Err(Error::input(path, format!("separator {} is not the maximum of width {width} ({sep_expected})", th.separator)));
    }
    if th.vocab_size >= sep_expected as u64 {
        return Err(Error::input(path, format!("vocab size {} does not fit width {width} (must be < {sep_expected})", th.vocab_size)));
    }
    let expect = (TOKEN_HEADER_LEN as u64).checked_add(th.n_tokens.checked_mul(width as u64).unwrap_or(u64::MAX));
    if expect != Some(len) {
        return Err(Error::input(
            path,
            format!("file size {len} does not match the header ({} tokens of {width} bytes + {TOKEN_HEADER_LEN}): truncated or corrupt", th.n_tokens),
        ));
    }
    if th.n_docs > th.n_tokens {
        return Err(Error::input(path, format!("header says {} documents but only {} tokens", th.n_docs, th.n_tokens)));
    }
    Ok(th)
}

/// A token file loaded in memory and validated.
pub struct Corpus<T: Token> {
    pub path: PathBuf,
    pub header: TokenHeader,
    pub text: Vec<T>,
    /// Positions of the separators, ascending (one per document).
    pub seps: Vec<u64>,
    pub checksum: u64,
    pub file_size: u64,
}

impl<T: Token> Corpus<T> {
    pub fn n(&self) -> usize {
        self.text.len()
    }
    /// The documents as slices (tokens after each separator).
    pub fn docs(&self) -> Vec<&[T]> {
        let n = self.text.len();
        let mut out = Vec::with_capacity(self.seps.len());
        for (i, &s) in self.seps.iter().enumerate() {
            let e = if i + 1 < self.seps.len() { self.seps[i + 1] as usize } else { n };
            out.push(&self.text[s as usize + 1..e]);
        }
        out
    }
    /// A fingerprint to store in derived files.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            width: T::WIDTH as u32,
            n_tokens: self.header.n_tokens,
            n_docs: self.header.n_docs,
            file_size: self.file_size,
            checksum: self.checksum,
        }
    }
}

/// Read and validate a token file of width `T::WIDTH`: header, size, separator
/// count = document count, first token a separator, every token < vocab size.
pub fn read_tokens<T: Token>(path: &Path) -> Result<Corpus<T>> {
    let (mut f, len) = open(path)?;
    let h = read_header(&mut f, len, TOKEN_HEADER_LEN, path, "token file")?;
    let header = parse_token_header(&h, len, path)?;
    if header.width as usize != T::WIDTH {
        return Err(Error::input(path, format!("token width is {} bytes, expected {}", header.width, T::WIDTH)));
    }
    let n = header.n_tokens as usize;
    let text: Vec<T> = read_vec(&mut f, n, path)?;
    let checksum = checksum_bytes(as_bytes(&text));
    let vocab = header.vocab_size;
    let mut seps = Vec::with_capacity(header.n_docs as usize);
    for (i, &t) in text.iter().enumerate() {
        if t.is_sep() {
            seps.push(i as u64);
        } else if t.to_u32() as u64 >= vocab {
            return Err(Error::input(path, format!("token {} at position {i} is not below the vocab size {vocab}", t.to_u32())));
        }
    }
    if seps.len() as u64 != header.n_docs {
        return Err(Error::input(path, format!("header says {} documents but the file holds {} separators", header.n_docs, seps.len())));
    }
    if n > 0 && !text[0].is_sep() {
        return Err(Error::input(path, "the first token is not a separator (each document must be preceded by one)"));
    }
    Ok(Corpus { path: path.to_path_buf(), header, text, seps, checksum, file_size: len })
}

/// Path of the offsets file of a token file.
pub fn offsets_path(tok: &Path) -> PathBuf {
    let mut s = tok.as_os_str().to_owned();
    s.push(".offsets");
    PathBuf::from(s)
}

/// Write a token file (and its offsets file) from documents; used by tests and
/// tools. The Python writer (`mosaic_kedro.token_files`) writes the same bytes.
pub fn write_tokens<T: Token>(path: &Path, docs: &[Vec<T>], vocab_size: u64) -> Result<()> {
    if vocab_size >= T::SEP.to_u32() as u64 {
        return Err(Error::Usage(format!("{}: vocab size {vocab_size} does not fit width {}", path.display(), T::WIDTH)));
    }
    let n: u64 = docs.iter().map(|d| d.len() as u64 + 1).sum();
    let header = TokenHeader {
        width: T::WIDTH as u32,
        n_tokens: n,
        n_docs: docs.len() as u64,
        vocab_size,
        separator: T::SEP.to_u32(),
    };
    let mut f = AtomicFile::create(path)?;
    f.write_all(&header.to_bytes())?;
    let mut offsets = Vec::with_capacity(docs.len());
    let mut pos = 0u64;
    for d in docs {
        for &t in d {
            if t.is_sep() || t.to_u32() as u64 >= vocab_size {
                return Err(Error::Usage(format!("{}: token {} is not below the vocab size {vocab_size}", path.display(), t.to_u32())));
            }
        }
        f.write_all(as_bytes(&[T::SEP]))?;
        f.write_all(as_bytes(d))?;
        offsets.push(pos + 1);
        pos += d.len() as u64 + 1;
    }
    f.commit()?;
    let op = offsets_path(path);
    let mut g = AtomicFile::create(&op)?;
    let mut oh = [0u8; OFFSETS_HEADER_LEN];
    oh[0..8].copy_from_slice(OFFSETS_MAGIC);
    oh[8..12].copy_from_slice(&VERSION.to_le_bytes());
    oh[12..16].copy_from_slice(&8u32.to_le_bytes());
    oh[16..24].copy_from_slice(&(docs.len() as u64).to_le_bytes());
    oh[24..32].copy_from_slice(&n.to_le_bytes());
    g.write_all(&oh)?;
    g.write_all(as_bytes(&offsets))?;
    g.commit()
}

/// Read an offsets file and check it against its token file's header.
pub fn read_offsets(path: &Path, expect_docs: u64, expect_tokens: u64) -> Result<Vec<u64>> {
    let (mut f, len) = open(path)?;
    let h = read_header(&mut f, len, OFFSETS_HEADER_LEN, path, "offsets file")?;
    if &h[0..8] != OFFSETS_MAGIC {
        return Err(Error::input(path, "not an offsets file (magic is not MOSAICOF)"));
    }
    if u32_at(&h, 8) != VERSION || u32_at(&h, 12) != 8 {
        return Err(Error::input(path, "unsupported offsets file version or entry width"));
    }
    let count = u64_at(&h, 16);
    let nt = u64_at(&h, 24);
    if count != expect_docs || nt != expect_tokens {
        return Err(Error::input(path, format!("offsets file is for {count} documents / {nt} tokens, token file has {expect_docs} / {expect_tokens}")));
    }
    if len != OFFSETS_HEADER_LEN as u64 + 8 * count {
        return Err(Error::input(path, format!("file size {len} does not match {count} offsets: truncated or corrupt")));
    }
    read_vec(&mut f, count as usize, path)
}

// ---------------------------------------------------------------- derived files

/// What a derived file records about the token file it was built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub width: u32,
    pub n_tokens: u64,
    pub n_docs: u64,
    pub file_size: u64,
    pub checksum: u64,
}

/// The 128-byte header shared by SA, self-similar and ranges files.
#[derive(Clone, Debug)]
pub struct OutHeader {
    pub magic: [u8; 8],
    pub pointer_width: u32,
    pub flags: u32,
    pub fp: Fingerprint,
    pub param: u64,
    pub count1: u64,
    pub count2: u64,
    pub param2: u64,
    pub payload_checksum: u64,
}

impl OutHeader {
    pub fn to_bytes(&self) -> [u8; OUT_HEADER_LEN] {
        let mut b = [0u8; OUT_HEADER_LEN];
        b[0..8].copy_from_slice(&self.magic);
        b[8..12].copy_from_slice(&VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.fp.width.to_le_bytes());
        b[16..20].copy_from_slice(&self.pointer_width.to_le_bytes());
        b[20..24].copy_from_slice(&self.flags.to_le_bytes());
        b[24..32].copy_from_slice(&self.fp.n_tokens.to_le_bytes());
        b[32..40].copy_from_slice(&self.fp.n_docs.to_le_bytes());
        b[40..48].copy_from_slice(&self.fp.file_size.to_le_bytes());
        b[48..56].copy_from_slice(&self.fp.checksum.to_le_bytes());
        b[56..64].copy_from_slice(&self.param.to_le_bytes());
        b[64..72].copy_from_slice(&self.count1.to_le_bytes());
        b[72..80].copy_from_slice(&self.count2.to_le_bytes());
        b[80..88].copy_from_slice(&self.param2.to_le_bytes());
        b[88..96].copy_from_slice(&self.payload_checksum.to_le_bytes());
        b
    }
    fn parse(b: &[u8], path: &Path, magic: &[u8; 8], what: &str) -> Result<OutHeader> {
        if &b[0..8] != magic {
            return Err(Error::input(path, format!("not a {what} file (magic is not {})", String::from_utf8_lossy(magic))));
        }
        let v = u32_at(b, 8);
        if v != VERSION {
            return Err(Error::input(path, format!("{what} file version {v} is not supported")));
        }
        Ok(OutHeader {
            magic: *magic,
            pointer_width: u32_at(b, 16),
            flags: u32_at(b, 20),
            fp: Fingerprint {
                width: u32_at(b, 12),
                n_tokens: u64_at(b, 24),
                n_docs: u64_at(b, 32),
                file_size: u64_at(b, 40),
                checksum: u64_at(b, 48),
            },
            param: u64_at(b, 56),
            count1: u64_at(b, 64),
            count2: u64_at(b, 72),
            param2: u64_at(b, 80),
            payload_checksum: u64_at(b, 88),
        })
    }
}

fn check_fp(h: &OutHeader, fp: &Fingerprint, path: &Path, tok: &Path, what: &str) -> Result<()> {
    if h.fp != *fp {
        return Err(Error::input(
            path,
            format!(
                "{what} was built from a different token file than {} (it records width {} / {} tokens / {} docs / {} bytes / checksum {:016x}; the token file has width {} / {} / {} / {} / {:016x})",
                tok.display(),
                h.fp.width, h.fp.n_tokens, h.fp.n_docs, h.fp.file_size, h.fp.checksum,
                fp.width, fp.n_tokens, fp.n_docs, fp.file_size, fp.checksum
            ),
        ));
    }
    Ok(())
}

/// Write a suffix array file.
pub fn write_sa<I: Idx>(path: &Path, fp: &Fingerprint, sa: &[I]) -> Result<()> {
    let h = OutHeader {
        magic: *SA_MAGIC,
        pointer_width: I::BYTES as u32,
        flags: 0,
        fp: fp.clone(),
        param: 0,
        count1: sa.len() as u64,
        count2: 0,
        param2: 0,
        payload_checksum: checksum_bytes(as_bytes(sa)),
    };
    let mut f = AtomicFile::create(path)?;
    f.write_all(&h.to_bytes())?;
    f.write_all(as_bytes(sa))?;
    f.commit()
}

/// Pointer width (4 or 8) recorded in a suffix array file.
pub fn sa_pointer_width(path: &Path) -> Result<u32> {
    let (mut f, len) = open(path)?;
    let b = read_header(&mut f, len, OUT_HEADER_LEN, path, "suffix array")?;
    let h = OutHeader::parse(&b, path, SA_MAGIC, "suffix array")?;
    if h.pointer_width != 4 && h.pointer_width != 8 {
        return Err(Error::input(path, format!("pointer width {} is not 4 or 8", h.pointer_width)));
    }
    Ok(h.pointer_width)
}

/// Read a suffix array file and check it belongs to `corpus`.
pub fn read_sa<T: Token, I: Idx>(path: &Path, corpus: &Corpus<T>) -> Result<Vec<I>> {
    let (mut f, len) = open(path)?;
    let b = read_header(&mut f, len, OUT_HEADER_LEN, path, "suffix array")?;
    let h = OutHeader::parse(&b, path, SA_MAGIC, "suffix array")?;
    check_fp(&h, &corpus.fingerprint(), path, &corpus.path, "suffix array")?;
    if h.pointer_width as usize != I::BYTES {
        return Err(Error::input(path, format!("pointer width {} is not the expected {}", h.pointer_width, I::BYTES)));
    }
    let n = corpus.n() as u64;
    if h.count1 != n || len != OUT_HEADER_LEN as u64 + n * I::BYTES as u64 {
        return Err(Error::input(path, format!("file size {len} does not match {n} pointers of {} bytes: truncated or corrupt", I::BYTES)));
    }
    let sa: Vec<I> = read_vec(&mut f, n as usize, path)?;
    if checksum_bytes(as_bytes(&sa)) != h.payload_checksum {
        return Err(Error::input(path, "payload checksum mismatch: the suffix array is corrupt"));
    }
    if let Some(bad) = sa.iter().find(|x| x.to_usize() >= n as usize) {
        return Err(Error::input(path, format!("pointer {} out of range (n = {n})", bad.to_usize())));
    }
    Ok(sa)
}

/// Write a file of header + u64 payload sections (self-similar, ranges).
pub fn write_u64_file(path: &Path, h: OutHeader, sections: &[&[u64]]) -> Result<()> {
    let mut w = U64Writer::create(path, h)?;
    for s in sections {
        w.extend(s)?;
    }
    w.finish()
}

/// A header + u64 payload file written as the payload is produced (nothing is
/// held but a 512 KiB buffer): the header goes first as a placeholder and is
/// rewritten with the payload checksum by `finish`, which also commits the file.
/// Dropped unfinished, nothing is left (an `AtomicFile`).
pub struct U64Writer {
    f: AtomicFile,
    h: OutHeader,
    c: Checksum,
    buf: Vec<u64>,
}

impl U64Writer {
    const BUF: usize = 1 << 16;
    pub fn create(path: &Path, h: OutHeader) -> Result<U64Writer> {
        let mut f = AtomicFile::create(path)?;
        f.write_all(&h.to_bytes())?;
        Ok(U64Writer { f, h, c: Checksum::new(), buf: Vec::with_capacity(Self::BUF) })
    }
    #[inline]
    pub fn push(&mut self, w: u64) -> Result<()> {
        self.buf.push(w);
        if self.buf.len() == Self::BUF {
            self.flush_buf()?;
        }
        Ok(())
    }
    pub fn extend(&mut self, ws: &[u64]) -> Result<()> {
        self.flush_buf()?;
        self.c.update(as_bytes(ws));
        self.f.write_all(as_bytes(ws))
    }
    fn flush_buf(&mut self) -> Result<()> {
        self.c.update(as_bytes(&self.buf));
        self.f.write_all(as_bytes(&self.buf))?;
        self.buf.clear();
        Ok(())
    }
    pub fn finish(mut self) -> Result<()> {
        self.flush_buf()?;
        self.h.payload_checksum = self.c.finish();
        self.f.rewrite_start(&self.h.to_bytes())?;
        self.f.commit()
    }
}

/// Read a header + u64 payload file (for tests and tools).
pub fn read_u64_file(path: &Path, magic: &[u8; 8], what: &str) -> Result<(OutHeader, Vec<u64>)> {
    let (mut f, len) = open(path)?;
    let b = read_header(&mut f, len, OUT_HEADER_LEN, path, what)?;
    let h = OutHeader::parse(&b, path, magic, what)?;
    let rest = len - OUT_HEADER_LEN as u64;
    if rest % 8 != 0 {
        return Err(Error::input(path, "payload is not a whole number of u64"));
    }
    let v: Vec<u64> = read_vec(&mut f, (rest / 8) as usize, path)?;
    if checksum_bytes(as_bytes(&v)) != h.payload_checksum {
        return Err(Error::input(path, "payload checksum mismatch: truncated or corrupt"));
    }
    Ok((h, v))
}

/// Read and check only the header of a derived file.
pub fn read_out_header(path: &Path, magic: &[u8; 8], what: &str) -> Result<OutHeader> {
    let (mut f, len) = open(path)?;
    let b = read_header(&mut f, len, OUT_HEADER_LEN, path, what)?;
    OutHeader::parse(&b, path, magic, what)
}
