"""The analysis as OctoPrint's gcodeAnalysis dictionary, and as a short summary for people."""
import math

DEFAULT_FILAMENT_DIAMETER = 1.75  # mm, when the file does not say


def result(machine, seconds: float, info: dict) -> dict:
    """OctoPrint's gcodeAnalysis shape, plus "slicer": what the file's comments say."""
    diameters = info.get("filamentDiameter") or []
    filament = {}
    for tool, length in sorted(machine.extrusion().items()):
        if tool != 0 and length <= 0.0:
            continue
        diameter = diameters[min(tool, len(diameters) - 1)] if diameters else DEFAULT_FILAMENT_DIAMETER
        volume = length * math.pi * (diameter / 2.0) ** 2 / 1000.0  # mm³ to cm³
        filament[f"tool{tool}"] = {"length": round(length, 5), "volume": round(volume, 5)}
    printing, travel = _area(machine, "p"), _area(machine, "t")
    return {
        "estimatedPrintTime": round(seconds, 6),
        "filament": filament,
        "dimensions": _dimensions(printing),
        "printingArea": printing,
        "travelDimensions": _dimensions(travel),
        "travelArea": travel,
        "slicer": info,
    }


def _area(machine, box: str) -> dict:
    area = {}
    for axis in "XYZ":
        low, high = getattr(machine, f"{box}min{axis.lower()}"), getattr(machine, f"{box}max{axis.lower()}")
        if low > high:  # nothing recorded
            low = high = 0.0
        area[f"min{axis}"], area[f"max{axis}"] = round(low, 5), round(high, 5)
    return area


def _dimensions(area: dict) -> dict:
    return {"width": round(area["maxX"] - area["minX"], 5), "depth": round(area["maxY"] - area["minY"], 5),
            "height": round(area["maxZ"] - area["minZ"], 5)}


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _versus(ours: float, theirs) -> str:
    if not isinstance(theirs, (int, float)) or theirs <= 0:
        return ""
    return f"{(ours - theirs) / theirs * 100.0:+.1f} %"


def summary(name: str, analysis: dict) -> str:
    """A few lines: time, filament per tool, size; the slicer's own figures beside ours with the difference."""
    slicer = analysis.get("slicer") or {}
    by = " ".join(str(slicer[k]) for k in ("name", "version") if slicer.get(k))
    rows = [(name, f"(sliced by {by})" if by else "", "", "")]
    ours = analysis["estimatedPrintTime"]
    theirs = slicer.get("estimatedPrintTime")
    rows.append(("print time", clock(ours), f"slicer {clock(theirs)}" if theirs else "", _versus(ours, theirs)))
    said = slicer.get("filament") or {}
    for tool, figures in analysis["filament"].items():
        length = figures["length"]
        other = (said.get(tool) or {}).get("length")
        rows.append((f"filament {tool}", f"{length / 1000.0:.2f} m ({figures['volume']:.2f} cm³)",
                     f"slicer {other / 1000.0:.2f} m" if other else "", _versus(length, other)))
    size = analysis["dimensions"]
    rows.append(("dimensions", f"{size['width']:.1f} x {size['depth']:.1f} x {size['height']:.1f} mm", "", ""))
    area = analysis["printingArea"]
    rows.append(("printing area", " ".join(f"{a} {area['min' + a]:.1f}..{area['max' + a]:.1f}" for a in "XYZ"),
                 "", ""))
    compared = [row for row in rows[1:] if row[2] or row[3]] or rows[1:]  # long lone cells do not widen columns
    widths = [max(len(row[i]) for row in compared) for i in range(3)]
    lines = [" ".join(rows[0][:2]).rstrip()]
    for row in rows[1:]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths + [0], strict=True)).rstrip())
    return "\n".join(lines)
