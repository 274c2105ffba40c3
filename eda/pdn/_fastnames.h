/* Node names of the compiled PDN tokeniser (_fastscan.c): the hash table that numbers them, and their decoding
 * into net, layer, x, y (eda.pdn.model.decode_names' rules). Written for this project; included once. */

/* ------------------------------------------------------------------ node names */
/* Open addressing; each slot (48 bytes) holds the name's hash, place in the deck, length, id + 1 (0: empty) and
 * the name itself when it has at most INLINE bytes, so that a probe compares within the slot. */
#define INLINE 24
typedef struct { uint64_t h; int64_t off; int32_t len; int32_t id1; unsigned char inl[INLINE]; } Slot;
typedef struct { Slot *slot; Py_ssize_t mask; Vec names; } Table;
static int WEAK_HASH;  /* tests: every name of a length hashes alike, so only the byte comparison tells them apart */

/* Zeroed slots; big tables in transparent huge pages where Linux offers them (fewer TLB misses per probe). */
static Slot *slots_alloc(Py_ssize_t cap) {
    size_t size = (size_t)cap * sizeof(Slot);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (size >= ((size_t)4 << 20)) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return NULL;
        madvise(p, size, MADV_HUGEPAGE);
        return p;
    }
#endif
    return calloc((size_t)cap, sizeof(Slot));
}

static void slots_free(Slot *s, Py_ssize_t cap) {
    if (!s) return;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if ((size_t)cap * sizeof(Slot) >= ((size_t)4 << 20)) { munmap(s, (size_t)cap * sizeof(Slot)); return; }
#endif
    (void)cap;
    free(s);
}

static uint64_t hash_bytes(const unsigned char *p, Py_ssize_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, (size_t)n);
    h = (h ^ w) * 0x94D049BB133111EBULL;
    return h ^ (h >> 29);
}

static int grow(Table *tb) {
    Py_ssize_t cap = 2 * (tb->mask + 1);
    Slot *ns = slots_alloc(cap);
    if (!ns) return -1;
    for (Py_ssize_t j = 0; j <= tb->mask; j++) {
        if (!tb->slot[j].id1) continue;
        Py_ssize_t i = (Py_ssize_t)((tb->slot[j].h >> 20) & (uint64_t)(cap - 1));
        while (ns[i].id1) i = (i + 1) & (cap - 1);
        ns[i] = tb->slot[j];
    }
    slots_free(tb->slot, tb->mask + 1);
    tb->slot = ns;
    tb->mask = cap - 1;
    return 0;
}

/* The id of the name t (hash h), a new one in order of first appearance; -1 ground, -2 out of memory. */
static int64_t intern(Table *tb, const unsigned char *d, const Tok *t, uint64_t h) {
    const unsigned char *p = d + t->off;
    Py_ssize_t n = t->len;
    if (n > 0x7FFFFFFF) return -2;
    if ((n == 1 && p[0] == '0') || (n == 3 && (!memcmp(p, "gnd", 3) || !memcmp(p, "GND", 3)))) return -1;
    Py_ssize_t i = (Py_ssize_t)((h >> 20) & (uint64_t)tb->mask);
    for (;;) {
        Slot *s = &tb->slot[i];
        if (!s->id1) break;
        if (s->h == h && s->len == n && !memcmp(n <= INLINE ? s->inl : d + s->off, p, (size_t)n)) return s->id1 - 1;
        i = (i + 1) & tb->mask;
    }
    if (10 * (tb->names.n + 1) > 7 * (tb->mask + 1)) {  /* at most 70 % full */
        if (grow(tb)) return -2;
        i = (Py_ssize_t)((h >> 20) & (uint64_t)tb->mask);
        while (tb->slot[i].id1) i = (i + 1) & tb->mask;
    }
    Tok *nt = vec_push(&tb->names);
    if (!nt) return -2;
    *nt = *t;
    Slot *s = &tb->slot[i];
    s->h = h;
    s->off = t->off;
    s->len = (int32_t)n;
    s->id1 = (int32_t)tb->names.n;
    if (n <= INLINE) memcpy(s->inl, p, (size_t)n);
    return tb->names.n - 1;
}

/* Look-ups wait in a short queue after their slot is prefetched, so that the table's cache misses overlap;
 * they resolve in order (ids stay in order of first appearance). Each writes its id to dest[idx]'s vector. */
#define RING 16
typedef struct { Tok t; uint64_t h; Vec *dest; Py_ssize_t idx; } Pending;
typedef struct { Pending q[RING]; int head, n; } Ring;

static int ring_pop(Ring *r, Table *tb, const unsigned char *d) {
    Pending *p = &r->q[r->head];
    int64_t id = intern(tb, d, &p->t, p->h);
    if (id == -2) return -2;
    ((int64_t *)p->dest->p)[p->idx] = id;
    r->head = (r->head + 1) % RING;
    r->n--;
    return 0;
}

static int ring_push(Ring *r, Table *tb, const unsigned char *d, const Tok *t, Vec *dest, Py_ssize_t idx) {
    if (r->n == RING && ring_pop(r, tb, d)) return -2;
    Pending *p = &r->q[(r->head + r->n) % RING];
    p->t = *t;
    p->h = WEAK_HASH ? (uint64_t)t->len << 20 : hash_bytes(d + t->off, t->len);
    p->dest = dest;
    p->idx = idx;
    __builtin_prefetch(&tb->slot[(p->h >> 20) & (uint64_t)tb->mask]);
    r->n++;
    return 0;
}

/* ------------------------------------------------------------------ name decoding */
/* The fields of eda.pdn.model.decode_names: [_X_](n|N)<net>_[<layer>_]<x>_<y>[_<layer>] with two or three
 * underscores after the prefix, decided here when every number has at most 15 characters (the net at most 9
 * digits), else left to its regular expression in Python. */
static int is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static Py_ssize_t take_word(const unsigned char *p, Py_ssize_t i, Py_ssize_t n) {
    if (i >= n || !is_alpha(p[i])) return -1;
    while (i < n && (is_alpha(p[i]) || is_digit(p[i]))) i++;
    return i;
}

static Py_ssize_t take_int(const unsigned char *p, Py_ssize_t i, Py_ssize_t n, int sign, int64_t *v, int *lng) {
    int neg = 0;
    Py_ssize_t s = i;
    if (sign && i < n && p[i] == '-') { neg = 1; i++; }
    Py_ssize_t ds = i;
    int64_t x = 0;
    while (i < n && is_digit(p[i])) { if (i - ds < 18) x = x * 10 + (p[i] - '0'); i++; }
    if (i == ds) return -1;
    if (i - s > 15) *lng = 1;
    *v = neg ? -x : x;
    return i;
}

/* 1: decoded; 0: no match; -1: undecided (long numbers). lay_s/lay_e: the layer field (lay_s < 0: none). */
static int decode_name(const unsigned char *p, Py_ssize_t n, int64_t *net, int64_t *x, int64_t *y,
                       Py_ssize_t *lay_s, Py_ssize_t *lay_e) {
    Py_ssize_t i = 0;
    int lng = 0;
    if (n >= 3 && p[0] == '_' && p[1] == 'X' && p[2] == '_') i = 3;
    if (i >= n || (p[i] | 32) != 'n') return 0;
    int us = 0;  /* decode_names reads names of two or three fields after the net, no others */
    for (Py_ssize_t j = i; j < n; j++) us += p[j] == '_';
    if (us != 2 && us != 3) return 0;
    Py_ssize_t j = take_int(p, i + 1, n, 0, net, &lng);
    if (j < 0) return 0;
    if (j - (i + 1) > 9) lng = 1;
    if (j >= n || p[j] != '_') return 0;
    j++;
    *lay_s = -1;
    Py_ssize_t w = take_word(p, j, n);
    if (w >= 0) {
        if (w >= n || p[w] != '_') return 0;
        *lay_s = j;
        *lay_e = w;
        j = w + 1;
    }
    j = take_int(p, j, n, 1, x, &lng);
    if (j < 0 || j >= n || p[j] != '_') return 0;
    j = take_int(p, j + 1, n, 1, y, &lng);
    if (j < 0) return 0;
    if (j < n) {
        if (p[j] != '_') return 0;
        w = take_word(p, j + 1, n);
        if (w != n) return 0;
        *lay_s = j + 1;
        *lay_e = n;
    }
    return lng ? -1 : 1;
}

#define MAX_LAYERS 256

/* (net int32, layer int16 into layer texts, x, y float64, undecided uint8, layer texts) of every node name. */
static PyObject *decode_all(const unsigned char *d, const Tok *names, Py_ssize_t n) {
    PyObject *bnet = PyBytes_FromStringAndSize(NULL, n * 4), *blay = PyBytes_FromStringAndSize(NULL, n * 2);
    PyObject *bx = PyBytes_FromStringAndSize(NULL, n * 8), *by = PyBytes_FromStringAndSize(NULL, n * 8);
    PyObject *bund = PyBytes_FromStringAndSize(NULL, n), *texts = PyList_New(0);
    if (!bnet || !blay || !bx || !by || !bund || !texts) goto fail;
    int32_t *net = (int32_t *)PyBytes_AS_STRING(bnet);
    int16_t *lay = (int16_t *)PyBytes_AS_STRING(blay);
    double *x = (double *)PyBytes_AS_STRING(bx), *y = (double *)PyBytes_AS_STRING(by);
    unsigned char *und = (unsigned char *)PyBytes_AS_STRING(bund);
    char ltext[MAX_LAYERS][16];
    int llen[MAX_LAYERS], nl = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned char *p = d + names[i].off;
        int64_t vn = 0, vx = 0, vy = 0;
        Py_ssize_t ls = -1, le = -1;
        int r = decode_name(p, names[i].len, &vn, &vx, &vy, &ls, &le);
        net[i] = -1; lay[i] = -1; x[i] = NAN; y[i] = NAN; und[i] = r < 0;
        if (r <= 0) continue;
        int li = -1;
        if (ls >= 0) {
            int len = (int)(le - ls);
            char low[16];
            if (len > 15) { und[i] = 1; continue; }
            for (int j = 0; j < len; j++) low[j] = (char)(p[ls + j] | (is_alpha(p[ls + j]) ? 32 : 0));
            for (int j = 0; j < nl && li < 0; j++) if (llen[j] == len && !memcmp(ltext[j], low, (size_t)len)) li = j;
            if (li < 0) {
                if (nl >= MAX_LAYERS) { und[i] = 1; continue; }
                memcpy(ltext[nl], low, (size_t)len);
                llen[nl] = len;
                PyObject *s = PyUnicode_FromStringAndSize(low, len);
                if (!s || PyList_Append(texts, s)) { Py_XDECREF(s); goto fail; }
                Py_DECREF(s);
                li = nl++;
            }
        }
        net[i] = (int32_t)vn; lay[i] = (int16_t)li; x[i] = (double)vx; y[i] = (double)vy;
    }
    return Py_BuildValue("(NNNNNN)", bnet, blay, bx, by, bund, texts);
fail:
    Py_XDECREF(bnet); Py_XDECREF(blay); Py_XDECREF(bx); Py_XDECREF(by); Py_XDECREF(bund); Py_XDECREF(texts);
    return NULL;
}

