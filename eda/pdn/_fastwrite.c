/* Compiled writers of contest-style CSV maps (eda.pdn.mapcsv.write_map_csv) and node-value CSVs
 * (eda.pdn.write.write_voltages_csv); written for this project.
 *
 * format_g9(values, ncols) -> bytes: the float64 values (C order, ncols per row) as "%.9g" text, comma-separated,
 * one newline-terminated line per row: byte for byte what Python's '%.9g' % x gives. The nine digits are the
 * exact decimal value of the double correctly rounded (half to even) with 128-bit integer arithmetic for
 * magnitudes 1e-14 <= |x| < 1e9; other values (zero aside) go through CPython's own formatter.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

typedef unsigned __int128 u128;

static u128 POW10[23];  /* 10^0 .. 10^22, exact */

static u128 pow10_128(int p) { return POW10[p]; }

/* q = x * 10^p rounded half to even (x = m * 2^e, e < 0, 0 <= p <= 22); 0 when it does not fit. */
static uint64_t scaled(uint64_t m, int e, int p, uint64_t *trunc) {
    int s = -e;
    if (s <= 0 || s > 126) return 0;
    u128 n = (u128)m * pow10_128(p);
    u128 q = n >> s, r = n & (((u128)1 << s) - 1), half = (u128)1 << (s - 1);
    *trunc = (uint64_t)q;
    if (r > half || (r == half && (q & 1))) q++;
    return (uint64_t)q;
}

/* "%.9g" of a finite non-zero x with 1e-14 <= |x| < 1e9 into out; returns the length, 0 when not handled. */
static int g9_fast(double x, char *out) {
    uint64_t bits;
    memcpy(&bits, &x, 8);
    int neg = (int)(bits >> 63), e2 = (int)((bits >> 52) & 0x7FF);
    double ax = fabs(x);
    if (e2 == 0 || e2 == 0x7FF || ax < 1e-14 || ax >= 1e9) return 0;
    uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int e = e2 - 1075;
    int x10 = (int)floor((e2 - 1023) * 0.30102999566398120);  /* log10 |x| or one below: corrected next */
    uint64_t q = 0, t = 0;
    for (int tries = 0; tries < 3; tries++) {
        int p = 8 - x10;
        if (p < 0 || p > 22) return 0;
        q = scaled(m, e, p, &t);
        if (!q) return 0;
        if (t >= 1000000000ULL) x10++;
        else if (t < 100000000ULL) x10--;
        else break;
        q = 0;
    }
    if (!q) return 0;
    if (q == 1000000000ULL) { q = 100000000ULL; x10++; }
    char dig[9];
    for (int i = 8; i >= 0; i--) { dig[i] = (char)('0' + q % 10); q /= 10; }
    int nd = 9;
    while (nd > 1 && dig[nd - 1] == '0') nd--;  /* %g drops trailing zeros */
    int k = 0;
    if (neg) out[k++] = '-';
    if (x10 >= -4 && x10 < 9) {
        if (x10 >= 0) {
            for (int i = 0; i <= x10; i++) out[k++] = i < nd ? dig[i] : '0';
            if (nd > x10 + 1) { out[k++] = '.'; for (int i = x10 + 1; i < nd; i++) out[k++] = dig[i]; }
        } else {
            out[k++] = '0';
            out[k++] = '.';
            for (int i = 0; i < -x10 - 1; i++) out[k++] = '0';
            for (int i = 0; i < nd; i++) out[k++] = dig[i];
        }
    } else {
        out[k++] = dig[0];
        if (nd > 1) { out[k++] = '.'; for (int i = 1; i < nd; i++) out[k++] = dig[i]; }
        out[k++] = 'e';
        out[k++] = x10 < 0 ? '-' : '+';
        int a = x10 < 0 ? -x10 : x10;
        if (a >= 100) out[k++] = (char)('0' + a / 100);
        out[k++] = (char)('0' + (a / 10) % 10);
        out[k++] = (char)('0' + a % 10);
    }
    return k;
}

static PyObject *py_format_g9(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t ncols;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*n", &buf, &ncols)) return NULL;
    Py_ssize_t n = buf.len / 8;
    if (ncols < 1 || n % ncols) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "format_g9: the values do not fill whole rows");
        return NULL;
    }
    const double *v = buf.buf;
    /* every value takes at most 16 bytes with its separator: written straight into the result, shrunk at the end */
    PyObject *res = PyBytes_FromStringAndSize(NULL, n * 17 + 1);
    if (!res) { PyBuffer_Release(&buf); return NULL; }
    char *out = PyBytes_AS_STRING(res);
    Py_ssize_t k = 0;
    int failed = 0;
    /* the GIL is released (two threads format two halves of a large map), taken back only for CPython's
     * formatter */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        double x = v[i];
        int len = 0;
        if (x == 0) {
            if (signbit(x)) out[k + len++] = '-';
            out[k + len++] = '0';
        } else {
            len = g9_fast(x, out + k);
        }
        if (!len) {
            Py_BLOCK_THREADS
            char *s = PyOS_double_to_string(x, 'g', 9, 0, NULL);
            if (s) {
                len = (int)strlen(s);
                if (len > 16) len = 16;  /* never: a double's %.9g has at most 16 characters (-1.23456789e-308) */
                memcpy(out + k, s, (size_t)len);
                PyMem_Free(s);
            }
            Py_UNBLOCK_THREADS
            if (!s) { failed = 1; break; }
        }
        k += len;
        out[k++] = (i + 1) % ncols ? ',' : '\n';
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    if (failed) { Py_DECREF(res); return NULL; }
    if (_PyBytes_Resize(&res, k)) return NULL;
    return res;
}

/* format_named(names, width, values, header) -> bytes | None: header, then "name,repr(value)" lines; names are NumPy
 * "<U{width}" rows (UCS-4); None when a name is not ASCII (the Python writer then encodes it). */
static PyObject *py_format_named(PyObject *self, PyObject *args) {
    Py_buffer nb, vb;
    Py_ssize_t width;
    const char *header;
    Py_ssize_t hlen;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*ny*s#", &nb, &width, &vb, &header, &hlen)) return NULL;
    Py_ssize_t n = vb.len / 8;
    PyObject *res = NULL;
    char *out = NULL;
    if (width < 1 || nb.len != n * width * 4) {
        PyErr_SetString(PyExc_ValueError, "format_named: names and values differ in length");
        goto done;
    }
    const uint32_t *nm = nb.buf;
    const double *v = vb.buf;
    Py_ssize_t cap = hlen + 1 + n * (width + 32) + 64, k = 0;
    out = PyMem_Malloc((size_t)cap);
    if (!out) { PyErr_NoMemory(); goto done; }
    memcpy(out, header, (size_t)hlen);
    k = hlen;
    out[k++] = '\n';
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint32_t *row = nm + i * width;
        Py_ssize_t end = width;
        while (end > 0 && !row[end - 1]) end--;  /* NumPy pads with zeros; a str ends at its last non-zero */
        for (Py_ssize_t j = 0; j < end; j++) {
            if (row[j] >= 128) { res = Py_None; Py_INCREF(res); goto done; }
            out[k++] = (char)row[j];
        }
        out[k++] = ',';
        char *s = PyOS_double_to_string(v[i], 'r', 0, Py_DTSF_ADD_DOT_0, NULL);  /* repr(float) */
        if (!s) goto done;
        size_t len = strlen(s);
        if (len > 30) len = 30;  /* never: a double's repr has at most 24 characters */
        memcpy(out + k, s, len);
        PyMem_Free(s);
        k += (Py_ssize_t)len;
        out[k++] = '\n';
    }
    res = PyBytes_FromStringAndSize(out, k);
done:
    PyMem_Free(out);
    PyBuffer_Release(&nb);
    PyBuffer_Release(&vb);
    return res;
}

static PyMethodDef methods[] = {
    {"format_named", py_format_named, METH_VARARGS,
     "format_named(names, width, values, header) -> bytes | None: 'name,repr(value)' lines (None: a non-ASCII name)"},
    {"format_g9", py_format_g9, METH_VARARGS,
     "format_g9(values, ncols) -> bytes: rows of '%.9g' values, comma-separated, newline-terminated"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastwrite",
                                    "Compiled CSV map writer (see eda.pdn.mapcsv).", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__fastwrite(void) {
    POW10[0] = 1;
    for (int i = 1; i < 23; i++) POW10[i] = POW10[i - 1] * 10;
    return PyModule_Create(&module);
}
