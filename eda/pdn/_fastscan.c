/* One-pass tokeniser of SPICE PDN decks (the compiled path of eda.pdn.parse; written for this project).
 *
 * scan(data: bytes, first_line: int) -> dict | str
 *
 * Reads R C L V I element lines (contest n1_m1_x_y and IBM n<net>_x_y names, ground 0/gnd/GND), comments,
 * '+' continuation lines, dot cards (returned as text for the Python side) and current sources with DC
 * and PULSE values. The result is what the line-by-line reader of eda/pdn/parse.py gives; anything this
 * kernel does not handle exactly that way (suffixes such as 10mil, PWL, AC, inline comments, .control
 * blocks, bad values, odd bytes) returns a str saying why, and the Python readers take the deck over.
 * Node ids: order of first appearance over resistors, capacitors, inductors, voltage then current sources,
 * each element's a before its b (the line reader's order). Numbers: correctly rounded (Clinger's fast path,
 * else CPython's own string-to-double), i.e. the double that float(text) gives.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

/* ------------------------------------------------------------------ growable arrays */
typedef struct { char *p; Py_ssize_t n, cap, size; } Vec;

static int vec_reserve(Vec *v, Py_ssize_t want) {
    if (want <= v->cap) return 0;
    Py_ssize_t cap = v->cap ? v->cap : 1024;
    while (cap < want) cap *= 2;
    char *p = realloc(v->p, (size_t)(cap * v->size));
    if (!p) return -1;
    v->p = p;
    v->cap = cap;
    return 0;
}

static void *vec_push(Vec *v) {
    if (v->n >= v->cap && vec_reserve(v, v->n + 1)) return NULL;
    return v->p + (v->n++) * v->size;
}

typedef struct { int64_t off; int64_t len; } Tok;

#include "_fastnames.h"
#include "_fastnum.h"

enum { K_R, K_C, K_L, K_V, K_I, NKIND };
static const char KIND_CHARS[] = "rclvi";

typedef struct {
    Vec line, a, b, val, name, wave, pulse; /* int64, int64 (ids in file order), int64, double, Tok, int8, double[7] */
    Vec pwl_n, pwl;                         /* current sources: PWL points per source (int64), t, v pairs (double) */
} Kind;

typedef struct {
    const unsigned char *d;
    Py_ssize_t size;
    Kind k[NKIND];
    Vec toks;  /* Tok: tokens of the current logical line */
    Vec spans; /* Tok: raw line spans of the current logical line (for dot cards) */
    Vec dots;  /* int64 line, then the text is rebuilt from dspans */
    Vec dspans_start, dspans; /* per dot: index of its first span in dspans; spans (Tok) */
    Vec slow;  /* SlowNum: numbers converted after the pass */
    Table tb;  /* node names, numbered in file order while their bytes are in cache; renumbered at the end */
    Ring ring;
    const char *bail;
    int64_t bail_line;
} Ctx;

static void ctx_init(Ctx *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < NKIND; i++) {
        c->k[i].line.size = 8; c->k[i].a.size = 8; c->k[i].b.size = 8;
        c->k[i].val.size = 8; c->k[i].name.size = sizeof(Tok); c->k[i].wave.size = 1;
        c->k[i].pulse.size = 7 * sizeof(double);
        c->k[i].pwl_n.size = 8; c->k[i].pwl.size = 8;
    }
    c->toks.size = sizeof(Tok); c->spans.size = sizeof(Tok); c->dots.size = 8;
    c->dspans_start.size = 8; c->dspans.size = sizeof(Tok);
    c->tb.names.size = sizeof(Tok);
    c->slow.size = sizeof(SlowNum);
}

static void vec_free(Vec *v) { free(v->p); v->p = NULL; v->n = v->cap = 0; }

static void ctx_free(Ctx *c) {
    for (int i = 0; i < NKIND; i++) {
        Kind *k = &c->k[i];
        vec_free(&k->line); vec_free(&k->a); vec_free(&k->b); vec_free(&k->val); vec_free(&k->name);
        vec_free(&k->wave); vec_free(&k->pulse); vec_free(&k->pwl_n); vec_free(&k->pwl);
    }
    vec_free(&c->toks); vec_free(&c->spans); vec_free(&c->dots); vec_free(&c->dspans_start); vec_free(&c->dspans);
    slots_free(c->tb.slot, c->tb.mask + 1);
    vec_free(&c->slow);
    vec_free(&c->tb.names);
}

static int defer(Ctx *c, const SlowNum *sn, Vec *dest, Py_ssize_t idx) {
    SlowNum *q = vec_push(&c->slow);
    if (!q) return -1;
    *q = *sn;
    q->dest = dest;
    q->idx = idx;
    return 0;
}

/* Whether every PWL source's times do not decrease (after the deferred numbers are in). */
static int pwl_ordered(const Kind *k) {
    const int64_t *cnt = (const int64_t *)k->pwl_n.p;
    const double *tv = (const double *)k->pwl.p;
    for (Py_ssize_t i = 0, at = 0; i < k->pwl_n.n; at += 2 * cnt[i], i++)
        for (int64_t j = 1; j < cnt[i]; j++)
            if (tv[at + 2 * j] < tv[at + 2 * j - 2]) return 0;
    return 1;
}

/* ------------------------------------------------------------------ lines */
static signed char KIND_OF[256];  /* element letter (any case) -> kind, else -1; filled by init_classes */

static int is_kind(unsigned char c, int *kind) {
    *kind = KIND_OF[c];
    return *kind >= 0;
}

/* keyword test, ASCII case-insensitive */
static int tok_is(const Ctx *c, const Tok *t, const char *word) {
    Py_ssize_t n = (Py_ssize_t)strlen(word);
    if (t->len != n) return 0;
    for (Py_ssize_t j = 0; j < n; j++)
        if ((c->d[t->off + j] | 32) != (unsigned char)word[j]) return 0;
    return 1;
}

static int bail(Ctx *c, const char *why, int64_t line) {
    c->bail = why;
    c->bail_line = line;
    return -1;
}

/* byte classes: 0 token byte, 1 blank, 2 refused (non-ASCII, control bytes other than tab, LF, CRLF) */
static unsigned char CLASS[256], SEP_CLASS[256];
static const char REFUSED[] = "a byte other than printable ASCII, tab, LF or CRLF";

static void init_classes(void) {
    for (int b = 0; b < 256; b++) CLASS[b] = (b >= 128 || (b < 32 && b != '\t')) ? 2 : 0;
    CLASS[' '] = CLASS['\t'] = 1;
    memcpy(SEP_CLASS, CLASS, sizeof CLASS);
    SEP_CLASS['('] = SEP_CLASS[')'] = SEP_CLASS[','] = 1;
    memset(KIND_OF, -1, sizeof KIND_OF);
    for (int k = 0; k < NKIND; k++) {
        KIND_OF[(unsigned char)KIND_CHARS[k]] = (signed char)k;
        KIND_OF[(unsigned char)(KIND_CHARS[k] - 32)] = (signed char)k;
    }
}

/* Split the bytes [s, e) into tokens appended to c->toks by the byte classes cls (CLASS, or SEP_CLASS, which
 * also splits at ( ) ,); -3 at a refused byte, -2 out of memory. */
static int split(Ctx *c, Py_ssize_t s, Py_ssize_t e, const unsigned char *cls) {
    const unsigned char *d = c->d;
    Py_ssize_t i = s;
    while (i < e) {
        while (i < e && cls[d[i]] == 1) i++;
        if (i >= e) break;
        Py_ssize_t j = i;
        while (j < e && cls[d[j]] == 0) j++;
        if (j < e && cls[d[j]] == 2) return -3;
        Tok *t = vec_push(&c->toks);
        if (!t) return -2;
        t->off = i;
        t->len = j - i;
        i = j;
    }
    return 0;
}

/* A current or voltage source's fields after its third token (the line reader's _source_fields, for the
 * forms DC value, bare value, PULSE(...) and PWL(...) on current sources). */
static int source_rest(Ctx *c, Kind *k, int kind, Py_ssize_t first, int64_t line) {
    Tok *t = (Tok *)c->toks.p;
    Py_ssize_t n = c->toks.n;
    double dc = 0, pulse[7];
    int have_dc = 0, wave = 0, r, dc_slow = 0, p_slow[7] = {0}, v0_slow = 0;
    SlowNum dc_sn, p_sn[7], v0_sn;
    Py_ssize_t npwl = 0, pwl0 = k->pwl.n;
    for (int j = 0; j < 7; j++) pulse[j] = NAN;
    Py_ssize_t i = first;
    while (i < n) {
        if (tok_is(c, &t[i], "dc")) {
            if (i + 1 >= n) return bail(c, "'dc' without a value", line);
            r = parse_number(c->d + t[i + 1].off, t[i + 1].len, &dc, &dc_sn);
            if (r != NUM_OK && r != NUM_SLOW) return bail(c, "a source value this kernel leaves to Python", line);
            have_dc = 1;
            dc_slow = r == NUM_SLOW;
            i += 2;
        } else if (tok_is(c, &t[i], "pulse")) {
            if (kind != K_I || wave) return bail(c, "a PULSE voltage source or a second PULSE", line);
            int m = 0;
            i++;
            while (i < n) {
                double v;
                r = parse_number(c->d + t[i].off, t[i].len, &v, &p_sn[m < 7 ? m : 6]);
                if (r == NUM_NOT) break;
                if ((r != NUM_OK && r != NUM_SLOW) || m >= 7)
                    return bail(c, "a PULSE field this kernel leaves to Python", line);
                p_slow[m] = r == NUM_SLOW;
                pulse[m++] = v;
                i++;
            }
            if (m < 2) return bail(c, "PULSE with fewer than 2 values", line);
            if (i < n) return bail(c, "fields after PULSE(...)", line);
            wave = 1;
        } else if (tok_is(c, &t[i], "pwl")) {
            if (kind != K_I || wave) return bail(c, "a PWL voltage source or a second waveform", line);
            i++;
            while (i < n) {
                double v, *pv;
                SlowNum sn;
                r = parse_number(c->d + t[i].off, t[i].len, &v, &sn);
                if (r == NUM_NOT) break;
                if (r != NUM_OK && r != NUM_SLOW) return bail(c, "a PWL field this kernel leaves to Python", line);
                if (!(pv = vec_push(&k->pwl))) return -2;
                *pv = v;
                if (r == NUM_SLOW && defer(c, &sn, &k->pwl, k->pwl.n - 1)) return -2;
                if (npwl == 1) { v0_slow = r == NUM_SLOW; v0_sn = sn; }
                npwl++;
                i++;
            }
            if (npwl < 2 || npwl % 2) return bail(c, "PWL without time/value pairs", line);
            if (i < n) return bail(c, "fields after PWL(...)", line);  /* time order: checked in pwl_ordered */
            npwl /= 2;
            wave = 2;
        } else {
            if (have_dc || wave) return bail(c, "an unexpected source field", line);
            r = parse_number(c->d + t[i].off, t[i].len, &dc, &dc_sn);
            if (r != NUM_OK && r != NUM_SLOW)
                return bail(c, "a source field this kernel leaves to Python (AC, SIN...)", line);
            dc_slow = r == NUM_SLOW;
            have_dc = 1;
            i++;
        }
    }
    if (!have_dc) {
        if (!wave) return bail(c, "a source without a value", line);
        dc = wave == 1 ? pulse[0] : ((const double *)k->pwl.p)[pwl0 + 1];
    }
    double *pv = vec_push(&k->val);
    signed char *wv = kind == K_I ? vec_push(&k->wave) : (signed char *)1;
    double *pp = kind == K_I ? vec_push(&k->pulse) : (double *)1;
    int64_t *pn = kind == K_I ? vec_push(&k->pwl_n) : (int64_t *)1;
    if (!pv || !wv || !pp || !pn) return -2;
    *pv = dc;
    if (kind == K_I) { *wv = (signed char)wave; memcpy(pp, pulse, sizeof pulse); *pn = npwl; }
    /* deferred numbers land where the value went: the DC value (or the waveform's first value), PULSE fields */
    const SlowNum *vs = have_dc ? (dc_slow ? &dc_sn : NULL) : wave == 1 ? (p_slow[0] ? &p_sn[0] : NULL)
                                                                      : (v0_slow ? &v0_sn : NULL);
    if (vs && defer(c, vs, &k->val, k->val.n - 1)) return -2;
    for (int j = 0; j < 7; j++)
        if (p_slow[j] && defer(c, &p_sn[j], &k->pulse, (k->pulse.n - 1) * 7 + j)) return -2;
    return 0;
}

/* One logical line (a raw line and its '+' continuations), its tokens in c->toks. */
static int finish_line(Ctx *c, int64_t line, unsigned char first, int joined) {
    Tok *t = (Tok *)c->toks.p;
    Py_ssize_t n = c->toks.n;
    unsigned char ch = first;
    if (ch == 0 && joined) ch = ' ';  /* "" + " " + continuation */
    if (ch == ' ' || ch == '\t') {
        if (n == 0) return 0;
        ch = c->d[t[0].off];
    }
    if (ch == 0 || ch == '*' || ch == ';' || ch == '$') return 0;
    if (ch == '.') {
        if (tok_is(c, &t[0], ".control") || tok_is(c, &t[0], ".endc"))
            return bail(c, "a .control block", line);
        int64_t *dl = vec_push(&c->dots), *ds = vec_push(&c->dspans_start);
        if (!dl || !ds) return -2;
        *dl = line;
        *ds = c->dspans.n;
        for (Py_ssize_t j = 0; j < c->spans.n; j++) {
            Tok *sp = vec_push(&c->dspans);
            if (!sp) return -2;
            *sp = ((Tok *)c->spans.p)[j];
        }
        return 0;
    }
    int kind;
    if (!is_kind(ch, &kind)) return bail(c, "a line that is not an R, C, L, V or I element", line);
    for (Py_ssize_t j = 0; j < n; j++)
        if (memchr(c->d + t[j].off, ';', (size_t)t[j].len)) return bail(c, "an inline comment", line);
    if (n < 4) return bail(c, "an element line with fewer than 4 fields", line);
    Kind *k = &c->k[kind];
    int64_t *pl = vec_push(&k->line), *pa = vec_push(&k->a), *pb = vec_push(&k->b);
    if (!pl || !pa || !pb) return -2;
    *pl = line;
    if (ring_push(&c->ring, &c->tb, c->d, &t[1], &k->a, k->a.n - 1) ||
        ring_push(&c->ring, &c->tb, c->d, &t[2], &k->b, k->b.n - 1)) return -2;
    if (kind <= K_L) {
        double v;
        if (n != 4) return bail(c, "extra fields on an R, C or L line", line);
        SlowNum sn;
        int r = parse_number(c->d + t[3].off, t[3].len, &v, &sn);
        if (r != NUM_OK && r != NUM_SLOW) return bail(c, "a value this kernel leaves to Python", line);
        double *pv = vec_push(&k->val);
        if (!pv) return -2;
        *pv = v;
        if (r == NUM_SLOW && defer(c, &sn, &k->val, k->val.n - 1)) return -2;
        return 0;
    }
    Tok *pn = vec_push(&k->name);
    if (!pn) return -2;
    *pn = t[0];
    /* the fields after the third token, split again at ( ) , as the line reader does */
    Py_ssize_t rest = t[3].off;
    Tok *sp = (Tok *)c->spans.p;
    c->toks.n = 0;
    for (Py_ssize_t j = 0; j < c->spans.n; j++) {
        Py_ssize_t s = sp[j].off + (j > 0), e = sp[j].off + sp[j].len;
        if (e <= rest) continue;
        if (s < rest) s = rest;
        if (split(c, s, e, SEP_CLASS)) return -2;  /* bytes checked on the first split */
    }
    return source_rest(c, k, kind, 0, line);
}

/* ------------------------------------------------------------------ the pass over the deck */

static int scan_lines(Ctx *c, int64_t first_line) {
    const unsigned char *d = c->d;
    Py_ssize_t size = c->size, pos = 0;
    int64_t li = 0, cur = -1;
    unsigned char cur_first = 0;
    int joined = 0, r;
    while (pos < size) {
        const unsigned char *nl = memchr(d + pos, '\n', (size_t)(size - pos));
        Py_ssize_t e = nl ? nl - d : size, next = nl ? e + 1 : size;
        if (e > pos && d[e - 1] == '\r') e--;
        if (li < first_line)  /* the title; other lines are checked while split */
            for (Py_ssize_t i = pos; i < e; i++)
                if (CLASS[d[i]] == 2) return bail(c, REFUSED, li);
        if (li >= 1 && e > pos && d[pos] == '+') {
            if (li == 1) return bail(c, "a continuation of the first line", li);
            if (cur < 0) return bail(c, "a continuation with no line before it", li);
            Tok *sp = vec_push(&c->spans);
            if (!sp) return -2;
            sp->off = pos;
            sp->len = e - pos;
            if ((r = split(c, pos + 1, e, CLASS))) return r == -3 ? bail(c, REFUSED, li) : -2;
            joined = 1;
        } else {
            if (cur >= 0 && (r = finish_line(c, cur, cur_first, joined))) return r;
            c->toks.n = c->spans.n = 0;
            joined = 0;
            cur = -1;
            if (li >= first_line) {
                cur = li;
                cur_first = e > pos ? d[pos] : 0;
                Tok *sp = vec_push(&c->spans);
                if (!sp) return -2;
                sp->off = pos;
                sp->len = e - pos;
                if ((r = split(c, pos, e, CLASS))) return r == -3 ? bail(c, REFUSED, li) : -2;
            }
        }
        pos = next;
        li++;
    }
    if (cur >= 0 && (r = finish_line(c, cur, cur_first, joined))) return r;
    while (c->ring.n) if (ring_pop(&c->ring, &c->tb, c->d)) return -2;
    return 0;
}

/* ------------------------------------------------------------------ results */
static PyObject *bytes_of(const void *p, Py_ssize_t n) { return PyBytes_FromStringAndSize(n ? p : "", n); }

/* Tokens as NumPy "<U{width}" rows (UCS-4, zero-padded, the widest token's width) in a bytearray: (rows, width). */
static PyObject *token_rows(const unsigned char *d, const Tok *t, Py_ssize_t n) {
    Py_ssize_t w = 1;
    for (Py_ssize_t i = 0; i < n; i++) if (t[i].len > w) w = t[i].len;
    PyObject *b = PyByteArray_FromStringAndSize(NULL, n * w * 4);
    if (!b) return NULL;
    uint32_t *o = (uint32_t *)PyByteArray_AS_STRING(b);
    memset(o, 0, (size_t)(n * w * 4));
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned char *p = d + t[i].off;
        uint32_t *row = o + i * w;
        for (Py_ssize_t j = 0; j < t[i].len; j++) row[j] = p[j];  /* ASCII: one code point per byte */
    }
    return Py_BuildValue("(Nn)", b, w);
}

static int set_item(PyObject *dict, const char *key, PyObject *val) {
    if (!val) return -1;
    int r = PyDict_SetItemString(dict, key, val);
    Py_DECREF(val);
    return r;
}

/* Node ids per kind (a, b interleaved as the line reader numbers them) into "<k>_a"/"<k>_b" entries. */
/* Node ids in the line reader's order (first appearance over R, C, L, V, I, a before b) from the file-order ids,
 * into "<k>_a"/"<k>_b" entries; *ordered: the names in that order (caller frees). */
static int renumber(Ctx *c, PyObject *res, Tok **ordered) {
    Py_ssize_t n = c->tb.names.n;
    int64_t *final = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    *ordered = malloc((size_t)(n ? n : 1) * sizeof(Tok));
    if (!final || !*ordered) { free(final); return -2; }
    for (Py_ssize_t i = 0; i < n; i++) final[i] = -1;
    int64_t next = 0;
    const Tok *names = (const Tok *)c->tb.names.p;
    for (int k = 0; k < NKIND; k++) {
        Kind *kd = &c->k[k];
        Py_ssize_t m = kd->a.n;
        PyObject *ba = PyBytes_FromStringAndSize(NULL, m * 8), *bb = PyBytes_FromStringAndSize(NULL, m * 8);
        if (!ba || !bb) { Py_XDECREF(ba); Py_XDECREF(bb); free(final); return -1; }
        int64_t *oa = (int64_t *)PyBytes_AS_STRING(ba), *ob = (int64_t *)PyBytes_AS_STRING(bb);
        const int64_t *ia = (const int64_t *)kd->a.p, *ib = (const int64_t *)kd->b.p;
        for (Py_ssize_t i = 0; i < m; i++) {
            int64_t x = ia[i], y = ib[i];
            if (x >= 0 && final[x] < 0) { final[x] = next; (*ordered)[next++] = names[x]; }
            if (y >= 0 && final[y] < 0) { final[y] = next; (*ordered)[next++] = names[y]; }
            oa[i] = x >= 0 ? final[x] : -1;
            ob[i] = y >= 0 ? final[y] : -1;
        }
        char key[8] = {KIND_CHARS[k], '_', 'a', 0};
        if (set_item(res, key, ba)) { Py_DECREF(bb); free(final); return -1; }
        key[2] = 'b';
        if (set_item(res, key, bb)) { free(final); return -1; }
    }
    free(final);
    return 0;
}

static PyObject *dot_list(const Ctx *c) {
    PyObject *out = PyList_New(c->dots.n);
    if (!out) return NULL;
    const int64_t *dl = (const int64_t *)c->dots.p, *ds = (const int64_t *)c->dspans_start.p;
    const Tok *sp = (const Tok *)c->dspans.p;
    for (Py_ssize_t i = 0; i < c->dots.n; i++) {
        Py_ssize_t a = ds[i], b = i + 1 < c->dots.n ? ds[i + 1] : c->dspans.n, len = 0;
        for (Py_ssize_t j = a; j < b; j++) len += sp[j].len;  /* " " + continuation[1:] is as long as the raw line */
        PyObject *t = PyBytes_FromStringAndSize(NULL, len);
        if (!t) { Py_DECREF(out); return NULL; }
        char *o = PyBytes_AS_STRING(t);
        for (Py_ssize_t j = a; j < b; j++) {  /* raw + " " + continuation[1:], as the line reader joins */
            if (j > a) { *o++ = ' '; memcpy(o, c->d + sp[j].off + 1, (size_t)(sp[j].len - 1)); o += sp[j].len - 1; }
            else { memcpy(o, c->d + sp[j].off, (size_t)sp[j].len); o += sp[j].len; }
        }
        PyList_SET_ITEM(out, i, Py_BuildValue("(LN)", (long long)dl[i], t));
    }
    return out;
}

static PyObject *results(Ctx *c) {
    PyObject *res = PyDict_New();
    Tok *names = NULL;
    if (!res) return NULL;
    int r = renumber(c, res, &names);
    if (r) goto fail;
    if (set_item(res, "names", token_rows(c->d, names, c->tb.names.n))) goto fail;
    if (set_item(res, "decoded", decode_all(c->d, names, c->tb.names.n))) goto fail;
    for (int k = 0; k < NKIND; k++) {
        Kind *kd = &c->k[k];
        char key[16];
        snprintf(key, sizeof key, "%c_line", KIND_CHARS[k]);
        if (set_item(res, key, bytes_of(kd->line.p, kd->line.n * 8))) goto fail;
        snprintf(key, sizeof key, "%c_value", KIND_CHARS[k]);
        if (set_item(res, key, bytes_of(kd->val.p, kd->val.n * 8))) goto fail;
        if (k >= K_V) {
            snprintf(key, sizeof key, "%c_names", KIND_CHARS[k]);
            if (set_item(res, key, token_rows(c->d, (const Tok *)kd->name.p, kd->name.n))) goto fail;
        }
    }
    Kind *ki = &c->k[K_I];
    if (set_item(res, "i_wave", bytes_of(ki->wave.p, ki->wave.n))) goto fail;
    if (set_item(res, "i_pulse", bytes_of(ki->pulse.p, ki->pulse.n * 7 * 8))) goto fail;
    if (set_item(res, "i_pwl_n", bytes_of(ki->pwl_n.p, ki->pwl_n.n * 8))) goto fail;
    if (set_item(res, "i_pwl", bytes_of(ki->pwl.p, ki->pwl.n * 8))) goto fail;
    if (set_item(res, "dots", dot_list(c))) goto fail;
    free(names);
    return res;
fail:
    free(names);
    Py_DECREF(res);
    if (r == -2 || !PyErr_Occurred()) return PyErr_NoMemory();
    return NULL;
}

static PyObject *py_scan(PyObject *self, PyObject *args) {
    Py_buffer buf;
    long long first_line = 0;
    int weak = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*|Lp", &buf, &first_line, &weak)) return NULL;
    WEAK_HASH = weak;
    Ctx c;
    ctx_init(&c);
    c.d = buf.buf;
    c.size = buf.len;
    Py_ssize_t cap = 1024;
    while (cap < c.size / 64) cap *= 2;  /* about twice the names of a typical deck; grown when 70 % full */
    c.tb.slot = slots_alloc(cap);
    c.tb.mask = cap - 1;
    if (!c.tb.slot) { PyBuffer_Release(&buf); return PyErr_NoMemory(); }
    PyObject *out;
    int r;
    Py_BEGIN_ALLOW_THREADS  /* the pass makes no Python call: other threads run beside it */
    r = c.size ? scan_lines(&c, first_line) : bail(&c, "an empty deck", 0);
    Py_END_ALLOW_THREADS
    if (!r && slow_resolve(&c.slow)) r = bail(&c, "a number CPython does not convert", -1);
    if (!r && !pwl_ordered(&c.k[K_I])) r = bail(&c, "PWL times that decrease", -1);
    if (r == -2) out = PyErr_NoMemory();
    else if (r && c.bail_line < 0) out = PyUnicode_FromString(c.bail);
    else if (r) out = PyUnicode_FromFormat("line %lld: %s", (long long)c.bail_line + 1, c.bail);
    else if (c.k[K_R].a.n + c.k[K_C].a.n + c.k[K_L].a.n + c.k[K_V].a.n + c.k[K_I].a.n == 0)
        out = PyUnicode_FromString("no element lines");
    else out = results(&c);
    ctx_free(&c);
    PyBuffer_Release(&buf);
    return out;
}

static PyMethodDef methods[] = {
    {"scan", py_scan, METH_VARARGS,
     "scan(data, first_line=0, weak_hash=False) -> dict of arrays (as bytes) | str (why the Python reader must take "
     "the deck); weak_hash (tests): all names of one length collide"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastscan",
                                    "Compiled one-pass tokeniser of SPICE PDN decks (see eda.pdn.fast).", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__fastscan(void) {
    init_classes();
    return PyModule_Create(&module);
}
