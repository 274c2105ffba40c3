/* Compiled evaluation of the contest IR-drop map's cubic interpolant on the integer lattice (eda.pdn.maps);
 * written for this project.
 *
 * ct_lattice(points, simplices, neighbors, transform, values, grads, H, x0, x1, out) -> None
 *
 *   The Clough-Tocher interpolant that scipy.interpolate.CloughTocher2DInterpolator (and griddata's "cubic")
 *   defines on a Delaunay triangulation: per triangle, a cubic Bezier net over the three sub-triangles that
 *   meet at its centroid (Alfeld 1984, Farin 1986), built from the vertex values and gradients; the
 *   cross-edge derivative is taken towards the neighbouring triangle's centroid (an affine-invariant choice
 *   shared by both triangles of an edge, so the surface is C1), towards the own centroid on a hull edge.
 *   Evaluated at the integer points (i, j), x0 <= i < x1, 0 <= j < H, into out[i*H + j].
 *
 *   Instead of locating every point by a walk, each triangle is scan-converted over the lattice points of its
 *   bounding box. A point belongs to the first triangle (in index order) whose barycentric coordinates, from
 *   the triangle's `transform` (SciPy's layout: 2x2 inverse then the third vertex), all lie in
 *   [-eps, 1 + eps] with eps = 100 DBL_EPSILON, and that lies within eps of the points' bounding box: the tests
 *   SciPy's point location applies. Degenerate triangles (NaN transform) take no point themselves; as in SciPy's
 *   brute-force search, a neighbour then takes the points within sqrt(eps) on the side facing it. Points in no
 *   triangle keep the value they had (the caller passes NaN).
 *
 *   Arrays (C order): points float64 (n, 2), simplices and neighbors int32 (m, 3), transform float64 (m, 3, 2),
 *   values float64 (n), grads float64 (n, 2), out float64 (W*H, writable). The GIL is released, so calls on
 *   disjoint x ranges run in parallel threads; each writes only its own rows.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>

/* SciPy's point-location tolerances: within EPS of a triangle (barycentric) or of the points' box; EPS_BROAD
 * toward a degenerate neighbour */
#define EPS (100 * DBL_EPSILON)
#define EPS_BROAD sqrt(EPS)

/* The 19 Bezier ordinates of one triangle, named by their multi-index over (V1, V2, V3, centroid). */
typedef struct {
    double c3000, c0300, c0030, c0003;
    double c2100, c2010, c2001, c0210, c0201, c0021;
    double c1200, c1020, c1002, c0120, c0102, c0012;
    double c1101, c1011, c0111;
} Net;

/* barycentric coordinates of (x, y) in a triangle from its transform, in SciPy's order of operations */
static inline void bary(const double *t, double x, double y, double *b) {
    double dx = x - t[4], dy = y - t[5];
    b[0] = 0.0 + t[0] * dx + t[1] * dy;
    b[1] = 0.0 + t[2] * dx + t[3] * dy;
    b[2] = 1.0 - b[0] - b[1];
}

/* the cross-edge parameter g of the edge opposite vertex k: where the neighbour's centroid lies */
static double edge_g(const double *P, const int *S, const double *t, int nb, int k) {
    if (nb < 0) return -0.5;  /* hull edge: towards the own centroid */
    const int *v = S + 3 * (Py_ssize_t)nb;
    Py_ssize_t a = 2 * (Py_ssize_t)v[0], b2 = 2 * (Py_ssize_t)v[1], c = 2 * (Py_ssize_t)v[2];
    double cx = (P[a] + P[b2] + P[c]) / 3;
    double cy = (P[a + 1] + P[b2 + 1] + P[c + 1]) / 3;
    double b[3];
    bary(t, cx, cy, b);
    int p = (k + 1) % 3, q = (k + 2) % 3;  /* the edge's two vertices */
    return (2 * b[q] + b[p] - 1) / (2 - 3 * b[q] - 3 * b[p]);
}

static void build_net(const double *P, const int *S, const int *N, const double *T, const double *f,
                      const double *G, Py_ssize_t s, Net *c) {
    const int *v = S + 3 * s;
    const double *t = T + 6 * s;
    Py_ssize_t i1 = 2 * (Py_ssize_t)v[0], i2 = 2 * (Py_ssize_t)v[1], i3 = 2 * (Py_ssize_t)v[2];
    double x1 = P[i1], y1 = P[i1 + 1], x2 = P[i2], y2 = P[i2 + 1], x3 = P[i3], y3 = P[i3 + 1];
    double e12x = x2 - x1, e12y = y2 - y1, e23x = x3 - x2, e23y = y3 - y2, e31x = x1 - x3, e31y = y1 - y3;
    const double *g1 = G + i1, *g2 = G + i2, *g3 = G + i3;
    double f1 = f[v[0]], f2 = f[v[1]], f3 = f[v[2]];
    /* derivative at each vertex along its two edges (towards the other vertex) */
    double d12 = +(g1[0] * e12x + g1[1] * e12y), d13 = -(g1[0] * e31x + g1[1] * e31y);
    double d21 = -(g2[0] * e12x + g2[1] * e12y), d23 = +(g2[0] * e23x + g2[1] * e23y);
    double d31 = +(g3[0] * e31x + g3[1] * e31y), d32 = -(g3[0] * e23x + g3[1] * e23y);
    /* vertex ordinates and their edge neighbours: a third of the way along each edge */
    c->c3000 = f1;
    c->c0300 = f2;
    c->c0030 = f3;
    c->c2100 = (d12 + 3 * f1) / 3;
    c->c2010 = (d13 + 3 * f1) / 3;
    c->c1200 = (d21 + 3 * f2) / 3;
    c->c0210 = (d23 + 3 * f2) / 3;
    c->c1020 = (d31 + 3 * f3) / 3;
    c->c0120 = (d32 + 3 * f3) / 3;
    /* towards the centroid: the tangent plane at each vertex */
    c->c2001 = (c->c2100 + c->c2010 + c->c3000) / 3;
    c->c0201 = (c->c1200 + c->c0300 + c->c0210) / 3;
    c->c0021 = (c->c1020 + c->c0120 + c->c0030) / 3;
    /* mid-edge ordinates: the cross-edge derivative linear along the edge (C1 with the neighbour) */
    double ga = edge_g(P, S, t, N[3 * s + 0], 0), gb = edge_g(P, S, t, N[3 * s + 1], 1);
    double gc = edge_g(P, S, t, N[3 * s + 2], 2);
    c->c0111 = (ga * (-c->c0300 + 3 * c->c0210 - 3 * c->c0120 + c->c0030)
                + (-c->c0300 + 2 * c->c0210 - c->c0120 + c->c0021 + c->c0201)) / 2;
    c->c1011 = (gb * (-c->c0030 + 3 * c->c1020 - 3 * c->c2010 + c->c3000)
                + (-c->c0030 + 2 * c->c1020 - c->c2010 + c->c2001 + c->c0021)) / 2;
    c->c1101 = (gc * (-c->c3000 + 3 * c->c2100 - 3 * c->c1200 + c->c0300)
                + (-c->c3000 + 2 * c->c2100 - c->c1200 + c->c2001 + c->c0201)) / 2;
    /* inner ring and the centroid: C1 across the sub-triangles' common edges */
    c->c1002 = (c->c1101 + c->c1011 + c->c2001) / 3;
    c->c0102 = (c->c1101 + c->c0111 + c->c0201) / 3;
    c->c0012 = (c->c1011 + c->c0111 + c->c0021) / 3;
    c->c0003 = (c->c1002 + c->c0102 + c->c0012) / 3;
}

/* the cubic at barycentric b: the sub-triangle opposite the smallest coordinate, in coordinates over
 * (V1, V2, V3, centroid) of which that one is zero */
static double eval_net(const Net *c, const double *b) {
    double mn = b[0];
    if (b[1] < mn) mn = b[1];
    if (b[2] < mn) mn = b[2];
    double u = b[0] - mn, v = b[1] - mn, w = b[2] - mn, z = 3 * mn;
    return u * u * u * c->c3000 + 3 * u * u * v * c->c2100 + 3 * u * u * w * c->c2010
           + 3 * u * u * z * c->c2001 + 3 * u * v * v * c->c1200
           + 6 * u * v * z * c->c1101 + 3 * u * w * w * c->c1020 + 6 * u * w * z * c->c1011
           + 3 * u * z * z * c->c1002 + v * v * v * c->c0300 + 3 * v * v * w * c->c0210
           + 3 * v * v * z * c->c0201 + 3 * v * w * w * c->c0120 + 6 * v * w * z * c->c0111
           + 3 * v * z * z * c->c0102 + w * w * w * c->c0030 + 3 * w * w * z * c->c0021
           + 3 * w * z * z * c->c0012 + z * z * z * c->c0003;
}

static int need(Py_buffer *b, Py_ssize_t bytes, const char *what) {
    if (b->len < bytes) {
        PyErr_Format(PyExc_ValueError, "ct_lattice: %s holds %zd bytes, %zd needed", what, b->len, bytes);
        return 0;
    }
    return 1;
}

typedef struct {
    const double *P, *T, *f, *G;
    const int *S, *N;
    double *out;
    Py_ssize_t H, x0, x1;
    double lx, hx, ly, hy;  /* SciPy's bounding-box test: a point beyond the points' box by > EPS is outside */
} Lattice;

/* Scan-convert triangle s: every lattice point of its box still NaN whose barycentric coordinates are within
 * [-EPS, 1 + EPS] takes the triangle's cubic; coordinate `side` (>= 0) gets the leeway -EPS_BROAD below instead
 * (the side facing a degenerate neighbour, as SciPy's brute-force search allows). */
static void scan(const Lattice *L, Py_ssize_t s, int side) {
    const double *t = L->T + 6 * s, *P = L->P;
    const int *v = L->S + 3 * s;
    Py_ssize_t ia = 2 * (Py_ssize_t)v[0], ib = 2 * (Py_ssize_t)v[1], ic = 2 * (Py_ssize_t)v[2];
    double xlo = fmin(P[ia], fmin(P[ib], P[ic])), xhi = fmax(P[ia], fmax(P[ib], P[ic]));
    double ylo = fmin(P[ia + 1], fmin(P[ib + 1], P[ic + 1])), yhi = fmax(P[ia + 1], fmax(P[ib + 1], P[ic + 1]));
    if (!(xlo == xlo && xhi == xhi && ylo == ylo && yhi == yhi)) return;  /* NaN vertices */
    double pad = 1e-6 * (1 + (xhi - xlo) + (yhi - ylo));
    xlo -= pad, xhi += pad, ylo -= pad, yhi += pad;
    if (xhi < (double)L->x0 || xlo > (double)(L->x1 - 1) || yhi < 0.0 || ylo > (double)(L->H - 1)) return;
    Py_ssize_t i0 = xlo <= (double)L->x0 ? L->x0 : (Py_ssize_t)ceil(xlo);
    Py_ssize_t i1 = xhi >= (double)(L->x1 - 1) ? L->x1 - 1 : (Py_ssize_t)floor(xhi);
    Py_ssize_t j0 = ylo <= 0.0 ? 0 : (Py_ssize_t)ceil(ylo);
    Py_ssize_t j1 = yhi >= (double)(L->H - 1) ? L->H - 1 : (Py_ssize_t)floor(yhi);
    double lo[3] = {-EPS, -EPS, -EPS};
    if (side >= 0) lo[side] = -EPS_BROAD;
    int built = 0;
    Net net = {0};
    for (Py_ssize_t i = i0; i <= i1; i++) {
        double x = (double)i;
        if (x < L->lx || x > L->hx) continue;
        for (Py_ssize_t j = j0; j <= j1; j++) {
            double *o = L->out + i * L->H + j, y = (double)j, b[3];
            if (*o == *o || y < L->ly || y > L->hy) continue;  /* taken by an earlier triangle, or outside */
            bary(t, x, y, b);
            if (!(b[0] >= lo[0] && b[0] <= 1 + EPS && b[1] >= lo[1] && b[1] <= 1 + EPS && b[2] >= lo[2]
                  && b[2] <= 1 + EPS))
                continue;
            if (!built) {
                build_net(P, L->S, L->N, L->T, L->f, L->G, s, &net);
                built = 1;
            }
            *o = eval_net(&net, b);
        }
    }
}

static PyObject *ct_lattice(PyObject *self, PyObject *args) {
    Py_buffer pb, sb, nb, tb, fb, gb, ob;
    Py_ssize_t H, x0, x1;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*nnnw*", &pb, &sb, &nb, &tb, &fb, &gb, &H, &x0, &x1, &ob)) return NULL;
    Py_buffer *all[] = {&pb, &sb, &nb, &tb, &fb, &gb, &ob};
    PyObject *ret = NULL;
    Py_ssize_t n = fb.len / 8, m = sb.len / 12;
    if (H < 0 || x0 < 0 || x1 < x0) {
        PyErr_SetString(PyExc_ValueError, "ct_lattice: bad lattice range");
        goto done;
    }
    if (H > 0 && x1 > ob.len / 8 / H) {  /* (no product that could overflow) */
        PyErr_Format(PyExc_ValueError, "ct_lattice: out holds %zd values, %zd rows of %zd needed", ob.len / 8, x1, H);
        goto done;
    }
    if (!need(&pb, 16 * n, "points") || !need(&gb, 16 * n, "grads") || !need(&nb, 12 * m, "neighbors")
        || !need(&tb, 48 * m, "transform"))
        goto done;
    Lattice L = {pb.buf, tb.buf, fb.buf, gb.buf, sb.buf, nb.buf, ob.buf, H, x0, x1, 0, 0, 0, 0};
    for (Py_ssize_t k = 0; k < 3 * m; k++) {
        if (L.S[k] < 0 || L.S[k] >= n || L.N[k] >= m) {
            PyErr_SetString(PyExc_ValueError, "ct_lattice: simplex or neighbour index out of range");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    double mnx = INFINITY, mxx = -INFINITY, mny = INFINITY, mxy = -INFINITY;
    for (Py_ssize_t k = 0; k < n; k++) {  /* the box of all the points, as SciPy's min_bound / max_bound */
        mnx = fmin(mnx, L.P[2 * k]), mxx = fmax(mxx, L.P[2 * k]);
        mny = fmin(mny, L.P[2 * k + 1]), mxy = fmax(mxy, L.P[2 * k + 1]);
    }
    L.lx = mnx - EPS, L.hx = mxx + EPS, L.ly = mny - EPS, L.hy = mxy + EPS;
    if (H > 0 && x1 > x0) {
        for (Py_ssize_t s = 0; s < m; s++)
            if (L.T[6 * s] == L.T[6 * s]) scan(&L, s, -1);
        /* degenerate triangles (NaN transform): their neighbours take the points within the wider leeway on
         * the side facing them, in the order SciPy's brute-force search visits them */
        for (Py_ssize_t s = 0; s < m; s++) {
            if (L.T[6 * s] == L.T[6 * s]) continue;
            for (int k = 0; k < 3; k++) {
                Py_ssize_t q = L.N[3 * s + k];
                if (q < 0 || !(L.T[6 * q] == L.T[6 * q])) continue;
                for (int side = 0; side < 3; side++)
                    if (L.N[3 * q + side] == s) scan(&L, q, side);
            }
        }
    }
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    ret = Py_None;
done:
    for (int k = 0; k < 7; k++) PyBuffer_Release(all[k]);
    return ret;
}

/* gradients(points, indptr, indices, values, maxiter, tol, grads) -> iterations, 0 when not converged
 *
 * The vertex gradients SciPy's CloughTocher2DInterpolator uses (its global estimate: Nielson 1983, Renka and Cline
 * 1984): the gradients that minimise the summed squared second derivative of the Clough-Tocher cubic along every
 * edge, found by Gauss-Seidel sweeps over the vertices in index order. Per vertex, with E the edge to a neighbour,
 * L its length, f1, f2 the values and dF2 the neighbour's current gradient:
 *     Q = sum 4 E E^T / L^3,   s = sum (6 (f1 - f2) + 2 E.dF2) E / L^3,   dF1 = -Q^-1 s.
 * Sweeps stop when no gradient moved by tol (relative to max(1, |dF1|)), at most maxiter. Neighbours come as
 * Delaunay.vertex_neighbor_vertices (indptr int32 (n+1), indices int32); grads float64 (n, 2) is written. The GIL
 * is released.
 */
static PyObject *gradients(PyObject *self, PyObject *args) {
    Py_buffer pb, ib, jb, fb, gb;
    int maxiter;
    double tol;
    if (!PyArg_ParseTuple(args, "y*y*y*y*idw*", &pb, &ib, &jb, &fb, &maxiter, &tol, &gb)) return NULL;
    Py_buffer *all[] = {&pb, &ib, &jb, &fb, &gb};
    PyObject *ret = NULL;
    Py_ssize_t n = fb.len / 8, nnz = jb.len / 4;
    if (!need(&pb, 16 * n, "points") || !need(&ib, 4 * (n + 1), "indptr") || !need(&gb, 16 * n, "grads")) goto done;
    const double *P = pb.buf, *f = fb.buf;
    const int *ip = ib.buf, *ix = jb.buf;
    double *y = gb.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (ip[i] < 0 || ip[i] > ip[i + 1] || ip[i + 1] > nnz) {
            PyErr_SetString(PyExc_ValueError, "gradients: indptr out of range");
            goto done;
        }
    }
    for (Py_ssize_t k = 0; k < (n ? ip[n] : 0); k++) {
        if (ix[k] < 0 || ix[k] >= n) {
            PyErr_SetString(PyExc_ValueError, "gradients: neighbour index out of range");
            goto done;
        }
    }
    int iters = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < 2 * n; k++) y[k] = 0;
    for (int it = 0; it < maxiter; it++) {
        double err = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            double q0 = 0, q1 = 0, q3 = 0, s0 = 0, s1 = 0;
            for (int k = ip[i]; k < ip[i + 1]; k++) {
                Py_ssize_t j = ix[k];
                double ex = P[2 * j] - P[2 * i], ey = P[2 * j + 1] - P[2 * i + 1];
                double len = sqrt(ex * ex + ey * ey), l3 = len * len * len;
                double df2 = -ex * y[2 * j] - ey * y[2 * j + 1];  /* the neighbour's slope along -E, times L */
                double b = 6 * (f[i] - f[j]) - 2 * df2;
                q0 += 4 * ex * ex / l3;
                q1 += 4 * ex * ey / l3;
                q3 += 4 * ey * ey / l3;
                s0 += b * ex / l3;
                s1 += b * ey / l3;
            }
            double det = q0 * q3 - q1 * q1;
            double r0 = (q3 * s0 - q1 * s1) / det, r1 = (-q1 * s0 + q0 * s1) / det;
            double change = fmax(fabs(y[2 * i] + r0), fabs(y[2 * i + 1] + r1));
            y[2 * i] = -r0;
            y[2 * i + 1] = -r1;
            change /= fmax(1.0, fmax(fabs(r0), fabs(r1)));
            if (change > err) err = change;
        }
        if (err < tol) {
            iters = it + 1;
            break;
        }
    }
    Py_END_ALLOW_THREADS
    ret = PyLong_FromLong(iters);
done:
    for (int k = 0; k < 5; k++) PyBuffer_Release(all[k]);
    return ret;
}

static PyMethodDef methods[] = {
    {"gradients", gradients, METH_VARARGS,
     "gradients(points, indptr, indices, values, maxiter, tol, grads) -> iterations (0: not converged): the "
     "Clough-Tocher vertex gradients by SciPy's global estimate (see the source)."},
    {"ct_lattice", ct_lattice, METH_VARARGS,
     "ct_lattice(points, simplices, neighbors, transform, values, grads, H, x0, x1, out): the Clough-Tocher "
     "interpolant at the integer points (i, j), x0 <= i < x1, 0 <= j < H, into out[i*H + j] (see the source)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastmap", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fastmap(void) { return PyModule_Create(&module); }
