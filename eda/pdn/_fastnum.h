/* Numbers of the compiled PDN tokeniser (_fastscan.c): SPICE values read without a Python call (Clinger's fast
 * path), the rest deferred to CPython's correctly rounded conversion. Written for this project; included once. */

/* ------------------------------------------------------------------ numbers */
static const double P10[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                               1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

enum { NUM_OK = 0, NUM_NOT = 1, NUM_UNSURE = 2, NUM_SLOW = 4 };

/* A number the fast path cannot round exactly: its mantissa text s[0:mlen] and decimal exponent, converted
 * later by CPython (slow_resolve, with the GIL) into dest's double number idx. */
typedef struct { const unsigned char *s; int32_t mlen; int32_t exp; Vec *dest; Py_ssize_t idx; } SlowNum;

/* A SPICE number token s[0:n] (mantissa, optional exponent, optional one-letter scale or "meg") into *out.
 * NUM_NOT: the token cannot be a number (first byte not a sign, digit or point); NUM_UNSURE: a token this
 * kernel leaves to the Python reader (unit letters, "mil", malformed numbers); NUM_SLOW: *out is 0 for now,
 * *slow says what to convert later (no Python call here: the pass runs without the GIL). */
static int parse_number(const unsigned char *s, Py_ssize_t n, double *out, SlowNum *slow) {
    Py_ssize_t i = 0;
    int neg = 0;
    if (n == 0) return NUM_NOT;
    unsigned char c0 = s[0];
    if (!(c0 == '+' || c0 == '-' || c0 == '.' || (c0 >= '0' && c0 <= '9'))) return NUM_NOT;
    if (s[i] == '+' || s[i] == '-') { neg = s[i] == '-'; i++; }
    uint64_t mant = 0;
    int sig = 0, digits = 0, dropped = 0;
    int64_t p10 = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        digits++;
        if (mant || s[i] != '0') {
            if (sig < 19) { mant = mant * 10 + (uint64_t)(s[i] - '0'); sig++; } else { dropped = 1; p10++; }
        }
        i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            digits++;
            if (mant || s[i] != '0') {
                if (sig < 19) { mant = mant * 10 + (uint64_t)(s[i] - '0'); sig++; p10--; } else dropped = 1;
            } else p10--;
            i++;
        }
    }
    if (!digits) return NUM_UNSURE;
    Py_ssize_t mant_end = i;  /* sign, digits and point */
    int64_t e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        Py_ssize_t j = i + 1;
        int eneg = 0, ed = 0;
        if (j < n && (s[j] == '+' || s[j] == '-')) { eneg = s[j] == '-'; j++; }
        while (j < n && s[j] >= '0' && s[j] <= '9') {
            if (ed++ > 6) return NUM_UNSURE;
            e = e * 10 + (s[j] - '0');
            j++;
        }
        if (!ed) return NUM_UNSURE; /* "1e" reads as 1 with unit letter e in SPICE: left to Python */
        if (eneg) e = -e;
        i = j;
    }
    int shift = 0;
    if (i < n) { /* a scale suffix, exactly: t g meg k m u n p f a (any case) */
        Py_ssize_t rest = n - i;
        unsigned char c = (unsigned char)(s[i] | 32);
        if (rest == 3 && c == 'm' && (s[i + 1] | 32) == 'e' && (s[i + 2] | 32) == 'g') shift = 6;
        else if (rest != 1) return NUM_UNSURE;
        else switch (c) {
            case 't': shift = 12; break;
            case 'g': shift = 9; break;
            case 'k': shift = 3; break;
            case 'm': shift = -3; break;
            case 'u': shift = -6; break;
            case 'n': shift = -9; break;
            case 'p': shift = -12; break;
            case 'f': shift = -15; break;
            case 'a': shift = -18; break;
            default: return NUM_UNSURE;
        }
    }
    int64_t p = p10 + e + shift;
    if (!dropped && mant <= (1ULL << 53) && p >= -22 && p <= 22) {
        double v = (double)mant;
        v = p >= 0 ? v * P10[p] : v / P10[-p];
        *out = neg ? -v : v;
        return NUM_OK;
    }
    /* the exact decimal value, rounded later by CPython's own conversion (the same as float(text)) */
    slow->s = s;
    slow->mlen = (int32_t)(mant_end < 4096 ? mant_end : 4096);
    slow->exp = (int32_t)(e + shift);
    if (mant_end >= 4096) return NUM_UNSURE;
    *out = 0;
    return NUM_SLOW;
}

/* Converts every deferred number (GIL held); -1 when CPython refuses one or it overflows to inf (the deck then
 * goes to Python, which names the file and line). */
static int slow_resolve(const Vec *slow) {
    char buf[4096 + 24];
    const SlowNum *q = (const SlowNum *)slow->p;
    for (Py_ssize_t k = 0; k < slow->n; k++) {
        int m = q[k].mlen;
        memcpy(buf, q[k].s, (size_t)m);
        int64_t ex = q[k].exp;
        char digs[24];
        int nd = 0;
        buf[m++] = 'e';
        if (ex < 0) { buf[m++] = '-'; ex = -ex; }
        do { digs[nd++] = (char)('0' + ex % 10); ex /= 10; } while (ex);
        while (nd) buf[m++] = digs[--nd];
        buf[m] = 0;
        double v = PyOS_string_to_double(buf, NULL, NULL);
        if (v == -1.0 && PyErr_Occurred()) { PyErr_Clear(); return -1; }
        if (!isfinite(v)) return -1; /* overflow (1e999): the line reader's typed error, not an inf */
        ((double *)q[k].dest->p)[q[k].idx] = v;
    }
    return 0;
}

