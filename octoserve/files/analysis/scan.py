"""The pure-Python fast path through G-code: plain G0/G1 moves, comments and blank lines; the rest is Machine's."""
from octoserve.files.analysis.machine import STATE, Machine

_NOTHING = ("", "G0", "G1")


def run(text: str, machine: Machine) -> None:
    """Feed a whole file through the machine: runs of plain lines here, the rare others one by one."""
    lines = text.split("\n")
    count = len(lines)
    i = 0
    while i < count:
        i = scan(lines, i, machine)
        if i < count:
            machine.command(lines[i])
            i += 1


# The same steps as Machine.move_to, inlined on local variables: this loop meets every line of the file.
def scan(lines: list, i: int, m: Machine) -> int:
    """Carry out lines from i on while they are plain moves, comments or blank; the index of the first other one."""
    (x, y, z, e, rx, rel_e, u, feed, sf, flow, cum, maxe, pminx, pmaxx, pminy, pmaxy, pminz, pmaxz, pcont,
     tminx, tmaxx, tminy, tmaxy, tminz, tmaxz, tcont) = m.pack()
    out, count = m.blocks.append, len(lines)
    while i < count:
        line = lines[i]
        head = line[:3]
        if head != "G1 " and head != "G0 ":
            if head[:1] == ";" or line.strip() in _NOTHING:
                i += 1
                continue
            break
        cut = line.find(";")
        nx, ny, nz, ne, nf = x, y, z, e, feed
        try:
            for w in (line[3:cut] if cut >= 0 else line[3:]).split():
                c = w[0]
                if c == "X": nx = float(w[1:]) * u + rx * x
                elif c == "Y": ny = float(w[1:]) * u + rx * y
                elif c == "E": ne = float(w[1:]) * u + rel_e * e
                elif c == "Z": nz = float(w[1:]) * u + rx * z
                elif c == "F" and float(w[1:]) > 0.0: nf = float(w[1:]) * u / 60.0
        except ValueError:  # not a plain number: Machine reads it the firmware's way
            break
        i += 1
        feed = nf
        dx, dy, dz, de = nx - x, ny - y, nz - z, (ne - e) * flow
        if dx != 0.0 or dy != 0.0 or dz != 0.0:
            if not tcont:
                tminx, tmaxx, tminy, tmaxy = min(tminx, x), max(tmaxx, x), min(tminy, y), max(tmaxy, y)
                tminz, tmaxz, tcont = min(tminz, z), max(tmaxz, z), 1.0
            if nx < tminx: tminx = nx
            elif nx > tmaxx: tmaxx = nx
            if ny < tminy: tminy = ny
            elif ny > tmaxy: tmaxy = ny
            if nz < tminz: tminz = nz
            elif nz > tmaxz: tmaxz = nz
            if de > 0.0:
                if not pcont:
                    pminx, pmaxx, pminy, pmaxy = min(pminx, x), max(pmaxx, x), min(pminy, y), max(pmaxy, y)
                    pminz, pmaxz, pcont = min(pminz, z), max(pmaxz, z), 1.0
                if nx < pminx: pminx = nx
                elif nx > pmaxx: pmaxx = nx
                if ny < pminy: pminy = ny
                elif ny > pmaxy: pmaxy = ny
                if nz < pminz: pminz = nz
                elif nz > pmaxz: pmaxz = nz
            else:
                pcont = 0.0
            out((dx, dy, dz, de, feed * sf))
        elif de != 0.0:
            out((0.0, 0.0, 0.0, de, feed * sf))
        x, y, z, e = nx, ny, nz, ne
        if de != 0.0:
            cum += de
            if cum > maxe: maxe = cum
    m.unpack((x, y, z, e, rx, rel_e, u, feed, sf, flow, cum, maxe, pminx, pmaxx, pminy, pmaxy, pminz, pmaxz, pcont,
              tminx, tmaxx, tminy, tmaxy, tminz, tmaxz, tcont))
    return i


assert STATE[0] == "x" and STATE[-1] == "tcont" and len(STATE) == 26  # the unpacking above follows STATE
