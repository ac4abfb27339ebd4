"""`pdpipeline export` that stops half-way (disk full here; a kill -9 in the fault campaign).

The export writes into a staging folder and moves each file into place by rename only at the end,
so the folder a reader opens holds the earlier export's whole files, never a half-written one,
and no staging folder stays behind.
"""

from __future__ import annotations

import errno

from pipelines.cli.main import main


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_an_export_that_fails_half_way_leaves_the_earlier_files_whole(
    sample_warehouse, tmp_path, monkeypatch, capsys
):
    settings = sample_warehouse.copy_to(tmp_path / "wh")
    monkeypatch.setenv("PD_TEMP_DIR", str(tmp_path / "tmp"))
    out = tmp_path / "out"
    args = ["export", "--warehouse", str(settings.warehouse), "--out", str(out), "--quiet"]
    assert main([*args, "--formats", "csv,json"]) == 0
    (out / "extracts").mkdir()
    (out / "extracts" / "mine.txt").write_text("not the export's")  # someone else's file
    before = _files(out)
    assert len(before) > 10

    import pipelines.charts.families as families

    real, calls = families.export_chart, []

    def fill_disk_at_the_third_chart(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(out / "x.svg"))
        return real(*a, **k)

    monkeypatch.setattr(families, "export_chart", fill_disk_at_the_third_chart)
    capsys.readouterr()
    assert main([*args, "--formats", "svg,csv,json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no space left") and len(err.splitlines()) == 1, err
    assert len(calls) == 3
    # Nothing of the failed export reached the folder, and its staging folder is gone.
    assert _files(out) == before
    assert not (out / ".export.partial").exists()

    monkeypatch.setattr(families, "export_chart", real)
    assert main([*args, "--formats", "svg,csv,json"]) == 0
    after = _files(out)
    assert after["extracts/mine.txt"] == b"not the export's"
    assert any(name.endswith(".svg") for name in after)
    assert not (out / ".export.partial").exists()
