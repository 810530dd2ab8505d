/* Optional C accelerator of the G-code analysis: the fast scanner (scan.py) and the planner (planner.py).
 *
 * Both functions mirror their Python twins operation for operation, so that results agree to the last
 * bit wherever the compiler keeps IEEE double arithmetic (built with -ffp-contract=off: no fused
 * multiply-add). Anything the scanner does not handle exactly as scan.py would, it leaves to Python:
 * it returns the offset of that line, and Machine.command carries it out.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

/* The state layout: machine.STATE, in the same order. */
enum {
    S_X, S_Y, S_Z, S_E, S_REL, S_REL_E, S_UNIT, S_FEED, S_SF, S_FLOW, S_CUM, S_MAXE,
    S_PMINX, S_PMAXX, S_PMINY, S_PMAXY, S_PMINZ, S_PMAXZ, S_PCONT,
    S_TMINX, S_TMAXX, S_TMINY, S_TMAXY, S_TMINZ, S_TMAXZ, S_TCONT, S_COUNT
};
static const char *STATE_NAMES[S_COUNT] = {
    "x", "y", "z", "e", "rel", "rel_e", "unit", "feed", "speed_factor", "flow", "cum", "maxe",
    "pminx", "pmaxx", "pminy", "pmaxy", "pminz", "pmaxz", "pcont",
    "tminx", "tmaxx", "tminy", "tmaxy", "tminz", "tmaxz", "tcont",
};
enum { L_COUNT = 17 }; /* limits.FIELDS */
#define PREVIOUS_SPEED_THRESHOLD 0.0001

/* ---- numbers ------------------------------------------------------------------------------ */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Bytes that Python's str.split() also splits on (as latin-1): a line with one goes to Python. */
static int is_odd_space(char c) {
    unsigned char u = (unsigned char)c;
    return (u >= 0x1c && u <= 0x1f) || u == 0x85 || u == 0xa0;
}

static const double POW10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Parse a whole word's number from p to end (a space, ';' or the line's end must follow).
 * The strict form [+-]?(digits[.digits]|.digits)([eE][+-]?digits)?, anything else returns 0 (the line
 * goes to Python). Short decimals are an exact integer over an exact power of ten: one correctly
 * rounded division, the same double Python's float() gives; longer ones use Python's own strtod. */
static int parse_number(const char *p, const char *end, double *out, const char **next) {
    const char *start = p;
    int negative = 0, digits = 0, decimals = 0, exact = 1;
    unsigned long long mantissa = 0;
    if (p < end && (*p == '+' || *p == '-')) negative = (*p++ == '-');
    for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
        if (mantissa > (1ULL << 53) / 10) exact = 0; else mantissa = mantissa * 10 + (unsigned)(*p - '0');
    }
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++, decimals++) {
            if (mantissa > (1ULL << 53) / 10) exact = 0; else mantissa = mantissa * 10 + (unsigned)(*p - '0');
        }
    }
    if (digits == 0) return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        if (q < end && (*q == '+' || *q == '-')) q++;
        if (q >= end || *q < '0' || *q > '9') return 0;
        while (q < end && *q >= '0' && *q <= '9') q++;
        p = q;
        exact = 0;
    }
    if (p < end && !is_blank(*p) && *p != ';') return 0;
    if (exact && decimals <= 22 && mantissa <= (1ULL << 53)) {
        double value = (double)mantissa / POW10[decimals];
        *out = negative ? -value : value;
    } else {
        char buffer[64];
        size_t size = (size_t)(p - start);
        if (size >= sizeof buffer) return 0;
        memcpy(buffer, start, size);
        buffer[size] = '\0';
        *out = PyOS_string_to_double(buffer, NULL, NULL);
        if (*out == -1.0 && PyErr_Occurred()) { PyErr_Clear(); return 0; }
    }
    *next = p;
    return 1;
}

/* ---- the scanner ---------------------------------------------------------------------------- */

typedef struct { double *data; Py_ssize_t size, capacity; } Blocks;

static int push_block(Blocks *b, double dx, double dy, double dz, double de, double f) {
    if (b->size + 5 > b->capacity) {
        Py_ssize_t capacity = b->capacity ? b->capacity * 2 : 5 * 4096;
        double *grown = PyMem_Realloc(b->data, (size_t)capacity * sizeof(double));
        if (!grown) return 0;
        b->data = grown;
        b->capacity = capacity;
    }
    double *d = b->data + b->size;
    d[0] = dx; d[1] = dy; d[2] = dz; d[3] = de; d[4] = f;
    b->size += 5;
    return 1;
}

/* One G0/G1 line's words into the targets; 0 if a word is not plain (Python reads the line then). */
static int read_words(const char *p, const char *eol, const double *s, double t[5]) {
    double u = s[S_UNIT], rx = s[S_REL], re = s[S_REL_E], value;
    while (1) {
        while (p < eol && is_blank(*p)) p++;
        if (p >= eol || *p == ';') return 1;
        char c = *p++;
        int axis = c == 'X' ? 0 : c == 'Y' ? 1 : c == 'Z' ? 2 : c == 'E' ? 3 : c == 'F' ? 4 : -1;
        if (axis < 0) { /* a word we ignore, as scan.py does */
            for (; p < eol && !is_blank(*p) && *p != ';'; p++)
                if (is_odd_space(*p)) return 0;
            continue;
        }
        if (!parse_number(p, eol, &value, &p)) return 0;
        if (axis == 4) t[4] = value > 0.0 ? value * u / 60.0 : t[4];
        else if (axis == 3) t[3] = value * u + re * s[S_E];
        else t[axis] = value * u + rx * s[S_X + axis];
    }
}

static void widen(double *box, double x, double y, double z, int start) {
    /* box: minx maxx miny maxy minz maxz; start: record with both comparisons (scan.py's min/max) */
    double v[3] = {x, y, z};
    for (int i = 0; i < 3; i++) {
        if (start) {
            if (v[i] < box[2 * i]) box[2 * i] = v[i];
            if (v[i] > box[2 * i + 1]) box[2 * i + 1] = v[i];
        } else if (v[i] < box[2 * i]) box[2 * i] = v[i];
        else if (v[i] > box[2 * i + 1]) box[2 * i + 1] = v[i];
    }
}

/* Machine.move_to, in the order scan.py inlines it. */
static int move(double *s, const double t[5], Blocks *blocks) {
    double x = s[S_X], y = s[S_Y], z = s[S_Z];
    s[S_FEED] = t[4];
    double dx = t[0] - x, dy = t[1] - y, dz = t[2] - z, de = (t[3] - s[S_E]) * s[S_FLOW];
    int ok = 1;
    if (dx != 0.0 || dy != 0.0 || dz != 0.0) {
        if (s[S_TCONT] == 0.0) { widen(s + S_TMINX, x, y, z, 1); s[S_TCONT] = 1.0; }
        widen(s + S_TMINX, t[0], t[1], t[2], 0);
        if (de > 0.0) {
            if (s[S_PCONT] == 0.0) { widen(s + S_PMINX, x, y, z, 1); s[S_PCONT] = 1.0; }
            widen(s + S_PMINX, t[0], t[1], t[2], 0);
        } else {
            s[S_PCONT] = 0.0;
        }
        ok = push_block(blocks, dx, dy, dz, de, s[S_FEED] * s[S_SF]);
    } else if (de != 0.0) {
        ok = push_block(blocks, 0.0, 0.0, 0.0, de, s[S_FEED] * s[S_SF]);
    }
    s[S_X] = t[0]; s[S_Y] = t[1]; s[S_Z] = t[2]; s[S_E] = t[3];
    if (de != 0.0) {
        s[S_CUM] += de;
        if (s[S_CUM] > s[S_MAXE]) s[S_MAXE] = s[S_CUM];
    }
    return ok;
}

/* What scan.py does with one line: 1 done, 0 leave it to Python, -1 out of memory. */
static int scan_line(const char *p, const char *eol, double *s, Blocks *blocks) {
    if (p < eol && *p == ';') return 1;
    if (eol - p >= 2 && p[0] == 'G' && (p[1] == '0' || p[1] == '1') && (eol - p == 2 || is_blank(p[2]))) {
        double t[5] = {s[S_X], s[S_Y], s[S_Z], s[S_E], s[S_FEED]};
        if (!read_words(p + 2, eol, s, t)) return 0;
        return move(s, t, blocks) ? 1 : -1;
    }
    while (p < eol && is_blank(*p)) p++;
    return p == eol;
}

static PyObject *scan(PyObject *self, PyObject *args) {
    Py_buffer data, state;
    Py_ssize_t position;
    if (!PyArg_ParseTuple(args, "y*nw*", &data, &position, &state)) return NULL;
    PyObject *result = NULL;
    Blocks blocks = {NULL, 0, 0};
    if (state.len != (Py_ssize_t)(S_COUNT * sizeof(double)) || position < 0 || position > data.len) {
        PyErr_SetString(PyExc_ValueError, "scan: bad state size or position");
        goto done;
    }
    const char *text = data.buf, *end = text + data.len, *p = text + position;
    double *s = state.buf;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        int outcome = scan_line(p, eol, s, &blocks);
        if (outcome < 0) { PyErr_NoMemory(); goto done; }
        if (outcome == 0) break;
        p = eol < end ? eol + 1 : end;
    }
    result = Py_BuildValue("(ny#)", (Py_ssize_t)(p - text), blocks.data ? (const char *)blocks.data : "",
                           (Py_ssize_t)(blocks.size * (Py_ssize_t)sizeof(double)));
done:
    PyMem_Free(blocks.data);
    PyBuffer_Release(&data);
    PyBuffer_Release(&state);
    return result;
}

/* ---- the planner ------------------------------------------------------------------------------ */

static double safe_speed(double v, const double *axis_v, const double *jerk) {
    double safe = v;
    int limited = 0;
    for (int a = 0; a < 4; a++) {
        double speed = fabs(axis_v[a]);
        if (speed > jerk[a]) {
            if (limited) {
                if (speed * safe > jerk[a] * v) safe = jerk[a] * v / speed;
            } else {
                limited = 1;
                safe = jerk[a];
            }
        }
    }
    return safe;
}

static double junction(double pv, const double *prev, double prev_safe, double v, const double *cur,
                       double safe, const double *jerk) {
    double speed, factor;
    if (pv > v) { speed = v; factor = v / pv; } else { speed = pv; factor = 1.0; }
    double v_factor = 1.0;
    int limited = 0;
    for (int a = 0; a < 4; a++) {
        double exit_v = prev[a] * factor, entry_v = cur[a], change;
        if (limited) { exit_v *= v_factor; entry_v *= v_factor; }
        if (exit_v > entry_v)
            change = (entry_v > 0.0 || exit_v < 0.0) ? exit_v - entry_v : fmax(exit_v, -entry_v);
        else
            change = (entry_v < 0.0 || exit_v > 0.0) ? entry_v - exit_v : fmax(-exit_v, entry_v);
        if (change > jerk[a]) { v_factor *= jerk[a] / change; limited = 1; }
    }
    if (limited) speed *= v_factor;
    double threshold = speed * 0.99;
    if (prev_safe > threshold && safe > threshold) speed = safe;
    return speed;
}

static int read_doubles(PyObject *tuple, double *out, Py_ssize_t count, const char *what) {
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != count) {
        PyErr_Format(PyExc_ValueError, "%s must be a tuple of %zd numbers", what, count);
        return 0;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        out[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(tuple, i));
        if (out[i] == -1.0 && PyErr_Occurred()) return 0;
    }
    return 1;
}

/* The limits in force for block i: the initial ones, then each change (index, limits) reached. */
static int apply_changes(PyObject *changes, Py_ssize_t *next, Py_ssize_t i, double *lim) {
    while (*next < PyList_GET_SIZE(changes)) {
        PyObject *change = PyList_GET_ITEM(changes, *next);
        if (!PyTuple_Check(change) || PyTuple_GET_SIZE(change) != 2) {
            PyErr_SetString(PyExc_ValueError, "a change is (index, limits)");
            return 0;
        }
        Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(change, 0));
        if (at == -1 && PyErr_Occurred()) return 0;
        if (at > i) return 1;
        if (!read_doubles(PyTuple_GET_ITEM(change, 1), lim, L_COUNT, "limits")) return 0;
        ++*next;
    }
    return 1;
}

/* One block of planner.prepare: out gets length, acceleration, cruise speed, squared max entry. */
static void prepare_block(const double *b, const double *lim, double *prev, double *out) {
    double dx = b[0], dy = b[1], dz = b[2], de = b[3], feed = b[4], accel, floor;
    double length = dx * dx + dy * dy + dz * dz;
    if (length > 0.0) {
        length = sqrt(length);
        if (de != 0.0) { accel = lim[8]; floor = lim[15]; } else { accel = lim[10]; floor = lim[16]; }
    } else {
        length = de != 0.0 ? fabs(de) : fabs(dx) + fabs(dy) + fabs(dz); /* planner.py: tiny moves */
        accel = lim[9]; floor = lim[15];
    }
    if (feed < floor) feed = floor;
    double k = feed / length, vel[4] = {dx * k, dy * k, dz * k, de * k}, d[4] = {dx, dy, dz, de};
    double scale = 1.0;
    for (int a = 0; a < 4; a++)
        if (fabs(vel[a]) * scale > lim[a]) scale = lim[a] / fabs(vel[a]);
    if (scale < 1.0) {
        feed = feed * scale;
        for (int a = 0; a < 4; a++) vel[a] = vel[a] * scale;
    }
    for (int a = 0; a < 4; a++)
        if (accel * fabs(d[a]) > lim[4 + a] * length) accel = lim[4 + a] * length / fabs(d[a]);
    double safe = safe_speed(feed, vel, lim + 11);
    double entry = prev[0] > PREVIOUS_SPEED_THRESHOLD ? junction(prev[0], prev + 1, prev[5], feed, vel, safe, lim + 11)
                                                      : safe;
    out[0] = length; out[1] = accel; out[2] = feed; out[3] = entry * entry;
    prev[0] = feed; prev[1] = vel[0]; prev[2] = vel[1]; prev[3] = vel[2]; prev[4] = vel[3]; prev[5] = safe;
}

static PyObject *prepare(PyObject *self, PyObject *args) {
    Py_buffer buffer;
    Py_ssize_t start, end, next = 0;
    PyObject *limits, *changes, *previous, *result = NULL, *bytes = NULL;
    if (!PyArg_ParseTuple(args, "y*nnOO!O", &buffer, &start, &end, &limits, &PyList_Type, &changes, &previous))
        return NULL;
    double lim[L_COUNT], prev[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    if (start < 0 || end < start || end > buffer.len / (Py_ssize_t)(5 * sizeof(double))) {
        PyErr_SetString(PyExc_ValueError, "prepare: blocks out of range");
        goto done;
    }
    if (!read_doubles(limits, lim, L_COUNT, "limits")) goto done;
    if (previous != Py_None && !read_doubles(previous, prev, 6, "previous")) goto done;
    bytes = PyBytes_FromStringAndSize(NULL, (end - start) * 4 * (Py_ssize_t)sizeof(double));
    if (!bytes) goto done;
    double *out = (double *)PyBytes_AS_STRING(bytes);
    for (Py_ssize_t i = start; i < end; i++, out += 4) {
        if (!apply_changes(changes, &next, i, lim)) goto done;
        prepare_block((const double *)buffer.buf + 5 * i, lim, prev, out);
    }
    result = Py_BuildValue("(O(dddddd))", bytes, prev[0], prev[1], prev[2], prev[3], prev[4], prev[5]);
done:
    Py_XDECREF(bytes);
    PyBuffer_Release(&buffer);
    return result;
}

/* planner.finalise over pending blocks packed as (length, accel, cruise, squared max entry). */
static double settle(const double *p, Py_ssize_t count, int has_entry, double entry, int has_exit,
                     double exit_squared, double *reach, double *entries, Py_ssize_t *settled, double *next_entry) {
    for (Py_ssize_t i = 0; i < count; i++) { reach[i] = 2.0 * p[4 * i + 1] * p[4 * i]; entries[i] = p[4 * i + 3]; }
    double limit = has_exit ? exit_squared : 0.0;
    Py_ssize_t last_reset = 0;
    for (Py_ssize_t i = count - 1; i >= 0; i--) {
        limit += reach[i];
        if (entries[i] > limit) entries[i] = limit;
        else { limit = entries[i]; if (!last_reset) last_reset = i; }
    }
    if (!has_exit && !last_reset) { *settled = 0; *next_entry = entry; return 0.0; }
    if (has_exit) { entries[count] = exit_squared; *settled = count; } else *settled = last_reset;
    double total = 0.0, w0 = has_entry ? entry : entries[0];
    for (Py_ssize_t i = 0; i < *settled; i++) {
        double w1 = entries[i + 1], a = p[4 * i + 1], d = p[4 * i], v = p[4 * i + 2];
        if (w1 > w0 + reach[i]) w1 = w0 + reach[i];
        double v2 = v * v;
        double cruise = d - (v2 - w0) / (2.0 * a) - (v2 - w1) / (2.0 * a);
        if (cruise >= 0.0) total += (2.0 * v - sqrt(w0) - sqrt(w1)) / a + cruise / v;
        else total += (2.0 * sqrt((w0 + w1) / 2.0 + a * d) - sqrt(w0) - sqrt(w1)) / a;
        w0 = w1;
    }
    *next_entry = w0;
    return total;
}

static PyObject *finalise(PyObject *self, PyObject *args) {
    Py_buffer buffer;
    PyObject *entry_object, *exit_object, *result = NULL;
    if (!PyArg_ParseTuple(args, "y*OO", &buffer, &entry_object, &exit_object)) return NULL;
    Py_ssize_t count = buffer.len / (Py_ssize_t)(4 * sizeof(double)), settled = 0;
    double entry = 0.0, exit_squared = 0.0, next_entry = 0.0;
    double *memory = PyMem_Malloc(sizeof(double) * (size_t)(2 * count + 1));
    if (!memory) { PyErr_NoMemory(); goto done; }
    if (entry_object != Py_None && (entry = PyFloat_AsDouble(entry_object)) == -1.0 && PyErr_Occurred()) goto done;
    if (exit_object != Py_None && (exit_squared = PyFloat_AsDouble(exit_object)) == -1.0 && PyErr_Occurred()) goto done;
    double total = settle((const double *)buffer.buf, count, entry_object != Py_None, entry, exit_object != Py_None,
                          exit_squared, memory, memory + count, &settled, &next_entry);
    if (exit_object == Py_None && settled == 0) result = Py_BuildValue("(dnO)", total, settled, entry_object);
    else result = Py_BuildValue("(dnd)", total, settled, next_entry);
done:
    PyMem_Free(memory);
    PyBuffer_Release(&buffer);
    return result;
}

/* ---- the module --------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(data, position, state) -> (position, blocks): scan.scan over bytes; blocks as packed doubles."},
    {"prepare", prepare, METH_VARARGS,
     "prepare(blocks, start, end, limits, changes, previous) -> (pending, previous): planner.prepare."},
    {"finalise", finalise, METH_VARARGS,
     "finalise(pending, entry, exit_squared) -> (seconds, settled, entry): planner.finalise, packed."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", "C twins of scan.scan and the planner kernels.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    PyObject *names = PyTuple_New(S_COUNT);
    if (!names) { Py_DECREF(m); return NULL; }
    for (int i = 0; i < S_COUNT; i++) PyTuple_SET_ITEM(names, i, PyUnicode_FromString(STATE_NAMES[i]));
    if (PyModule_AddObject(m, "STATE", names) < 0) { Py_DECREF(names); Py_DECREF(m); return NULL; }
    return m;
}
