/* 2-D Delaunay triangulation through the system's reentrant Qhull library (libqhull_r), for the contest IR-drop
 * map (eda.pdn.maps); written for this project.
 *
 * delaunay(points) -> (simplices, neighbors, indptr, indices, ncoplanar)
 *
 *   The triangulation scipy.spatial.Delaunay(points) computes, in the same layout: Qhull run with SciPy's default
 *   options for 2-D ("qhull d Qbb Qc Qz Q12 Qt"), the lower-Delaunay facets taken in Qhull's facet-list order,
 *   each facet's vertices and neighbours in Qhull's set order with the first two swapped where the facet is
 *   clockwise (so every triangle is counter-clockwise), and the vertex neighbours (Delaunay.vertex_neighbor_vertices)
 *   listed in the order the triangles first name them. The contest's golden maps come from SciPy's Qhull, whose
 *   choice of diagonal on the co-circular cells of a grid is reproduced only by running Qhull itself: this module
 *   exists so that Qhull can start without importing scipy.spatial (~0.2-0.4 s), beside the deck's reading.
 *
 *   points: float64 C-contiguous (n, 2), read only. Returned arrays are bytearrays of int32 (the caller views
 *   them with numpy): simplices and neighbors (m, 3), -1 for no neighbour; indptr (n + 1) and indices. ncoplanar:
 *   how many points Qhull left out of the triangulation (option Qc). A Qhull failure raises RuntimeError with
 *   Qhull's message. The GIL is released while Qhull runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libqhull_r/qhull_ra.h>

/* SciPy's options for a Delaunay triangulation of points in 2-D ("Qt" is always added) */
static char QHULL_CMD[] = "qhull d Qbb Qc Qz Q12 Qt";

typedef struct {
    int *simplices, *neighbors, *indptr, *indices;
    Py_ssize_t m, nnz;
    int ncoplanar;
} Result;

/* The lower-Delaunay facets of a finished Qhull run into r, in SciPy's layout: 0, -1 (out of memory) or -2 (a
 * facet that is not a triangle, a message in errfile). */
static int collect(qhT *qh, int n, Result *r, FILE *errfile) {
    facetT *facet;
    Py_ssize_t m = 0;
    int *id_map = malloc(sizeof(int) * ((size_t)qh->facet_id + 1));
    if (!id_map) return -1;
    for (unsigned k = 0; k <= qh->facet_id; k++) id_map[k] = -1;
    for (facet = qh->facet_list; facet && facet->next; facet = facet->next) {
        if (facet->upperdelaunay != qh->UPPERdelaunay) continue;
        if (!facet->simplicial && (qh_setsize(qh, facet->vertices) != 3 || qh_setsize(qh, facet->neighbors) != 3)) {
            fprintf(errfile, "non-simplicial facet encountered: %d vertices\n", qh_setsize(qh, facet->vertices));
            free(id_map);
            return -2;
        }
        id_map[facet->id] = (int)m++;
    }
    if (6 * m > 0x7fffffff) {  /* the vertex-neighbour offsets are int32, as SciPy's */
        fprintf(errfile, "too many triangles (%zd) for int32 offsets\n", m);
        free(id_map);
        return -2;
    }
    int *S = malloc(sizeof(int) * 3 * (m + 1)), *N = malloc(sizeof(int) * 3 * (m + 1));
    int *cnt = calloc((size_t)n + 1, sizeof(int)), *ip = malloc(sizeof(int) * ((size_t)n + 1));
    r->simplices = S, r->neighbors = N, r->indptr = ip, r->m = m;  /* freed by the caller, also on failure */
    if (!S || !N || !cnt || !ip) {
        free(id_map);
        free(cnt);
        return -1;
    }
    Py_ssize_t j = 0;
    int ncop = 0;
    for (facet = qh->facet_list; facet && facet->next; facet = facet->next) {
        if (facet->upperdelaunay != qh->UPPERdelaunay) continue;
        int swap = facet->toporient == qh_ORIENTclock;  /* clockwise: the first two swapped, as SciPy does */
        for (int i = 0; i < 3; i++) {
            int to = (swap && i < 2) ? 1 - i : i;
            vertexT *vertex = facet->vertices->e[i].p;
            facetT *nb = facet->neighbors->e[i].p;
            S[3 * j + to] = qh_pointid(qh, vertex->point);
            N[3 * j + to] = id_map[nb->id];
        }
        if (facet->coplanarset) ncop += qh_setsize(qh, facet->coplanarset);
        j++;
    }
    free(id_map);
    r->ncoplanar = ncop;
    /* vertex neighbours: for each triangle in order, each vertex adds the other two unless already listed */
    for (Py_ssize_t t = 0; t < m; t++)
        for (int a = 0; a < 3; a++) cnt[S[3 * t + a]] += 2;  /* row capacities: an upper bound */
    Py_ssize_t cap = 0;
    for (int v = 0; v < n; v++) {
        ip[v] = (int)cap;
        cap += cnt[v];
        cnt[v] = 0;
    }
    ip[n] = (int)cap;
    int *ix = malloc(sizeof(int) * (cap + 1));
    r->indices = ix;
    if (!ix) {
        free(cnt);
        return -1;
    }
    for (Py_ssize_t t = 0; t < m; t++) {
        for (int a = 0; a < 3; a++) {
            int v = S[3 * t + a];
            int *row = ix + ip[v];
            for (int b = 0; b < 3; b++) {
                int w = S[3 * t + b], k = 0;
                if (w == v) continue;
                while (k < cnt[v] && row[k] != w) k++;
                if (k == cnt[v]) row[cnt[v]++] = w;
            }
        }
    }
    Py_ssize_t nnz = 0;  /* compact the rows */
    for (int v = 0; v < n; v++) {
        int start = ip[v];
        ip[v] = (int)nnz;
        memmove(ix + nnz, ix + start, sizeof(int) * cnt[v]);
        nnz += cnt[v];
    }
    ip[n] = (int)nnz;
    r->nnz = nnz;
    free(cnt);
    return 0;
}

/* Qhull on n points; fills r (malloc'ed arrays) and returns 0, -1 when out of memory, or Qhull's exit code (or -2)
 * with its message in err. */
static int triangulate(double *points, int n, Result *r, char **err, size_t *errlen) {
    FILE *errfile = open_memstream(err, errlen);
    if (!errfile) return -1;
    qhT *qh = malloc(sizeof(qhT));
    if (!qh) {
        fclose(errfile);
        return -1;
    }
    qh_zero(qh, errfile);
    int code = qh_new_qhull(qh, 2, n, points, False, QHULL_CMD, NULL, errfile);
    if (code == 0) code = collect(qh, n, r, errfile);
    int curlong, totlong;
    qh_freeqhull(qh, qh_ALL);
    qh_memfreeshort(qh, &curlong, &totlong);
    free(qh);
    fclose(errfile);
    return code;
}

static PyObject *as_bytes(const int *a, Py_ssize_t count) {
    return PyByteArray_FromStringAndSize((const char *)a, (Py_ssize_t)sizeof(int) * count);
}

static PyObject *delaunay(PyObject *self, PyObject *args) {
    Py_buffer pb;
    if (!PyArg_ParseTuple(args, "y*", &pb)) return NULL;
    if (pb.len % 16 || pb.len / 16 > 0x7fffffff) {
        PyBuffer_Release(&pb);
        PyErr_SetString(PyExc_ValueError, "delaunay: points must be float64 (n, 2)");
        return NULL;
    }
    int n = (int)(pb.len / 16);
    /* a private copy: the caller's buffer is released before the GIL is (another thread may then change or free it),
     * and Qhull takes a non-const pointer */
    double *pts = malloc(pb.len ? pb.len : 1);
    if (!pts) {
        PyBuffer_Release(&pb);
        return PyErr_NoMemory();
    }
    memcpy(pts, pb.buf, pb.len);
    PyBuffer_Release(&pb);
    Result r = {0};
    char *err = NULL;
    size_t errlen = 0;
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = triangulate(pts, n, &r, &err, &errlen);
    Py_END_ALLOW_THREADS
    free(pts);
    PyObject *ret = NULL;
    if (code == -1) {
        PyErr_NoMemory();
    } else if (code != 0) {
        PyErr_Format(PyExc_RuntimeError, "Qhull failed (code %d): %s", code, err ? err : "");
    } else {
        PyObject *s = as_bytes(r.simplices, 3 * r.m), *nb = as_bytes(r.neighbors, 3 * r.m);
        PyObject *ip = as_bytes(r.indptr, (Py_ssize_t)n + 1), *ix = as_bytes(r.indices, r.nnz);
        if (s && nb && ip && ix) ret = Py_BuildValue("(OOOOi)", s, nb, ip, ix, r.ncoplanar);
        Py_XDECREF(s);
        Py_XDECREF(nb);
        Py_XDECREF(ip);
        Py_XDECREF(ix);
    }
    free(r.simplices);
    free(r.neighbors);
    free(r.indptr);
    free(r.indices);
    free(err);
    return ret;
}

static PyMethodDef methods[] = {
    {"delaunay", delaunay, METH_VARARGS,
     "delaunay(points) -> (simplices, neighbors, indptr, indices, ncoplanar): SciPy's 2-D Delaunay triangulation "
     "by the system's Qhull, int32 arrays as bytearrays (see the source)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_qhull2d", NULL, -1, methods};

PyMODINIT_FUNC PyInit__qhull2d(void) { return PyModule_Create(&module); }
