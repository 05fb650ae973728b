"""A fitted film stays whole when the view is resized (docks shown or hidden); a zoomed one keeps its zoom."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.film import load_film
from app.film_view import FilmView
from app.sample_film import write_sample_film


def _whole_film_in_view(view: FilmView) -> bool:
    film = view.film
    assert film is not None
    corners = [(0.0, 0.0), (film.columns, 0.0), (0.0, film.rows), (film.columns, film.rows)]
    points = [view.widget_point(corner) for corner in corners]
    return all(-1 <= p.x() <= view.width() + 1 and -1 <= p.y() <= view.height() + 1 for p in points)


def test_fitted_film_refits_on_resize_zoomed_film_keeps_zoom(qtbot: QtBot, tmp_path: Path) -> None:
    film = load_film(
        write_sample_film(tmp_path / "f.dcm", rows=800, columns=400, spacing_mm=(0.75, 0.75)).path
    )
    view = FilmView()
    qtbot.addWidget(view)
    view.resize(900, 900)
    view.show()
    view.set_film(film)
    assert view.keep_fitted and _whole_film_in_view(view)
    view.resize(500, 400)  # e.g. a dock appears beside the film
    assert _whole_film_in_view(view)
    assert view.view_geometry.zoom < 0.6
    view.zoom_by(2.0)
    zoom = view.view_geometry.zoom
    assert not view.keep_fitted
    view.resize(800, 700)
    assert view.view_geometry.zoom == zoom  # the reader's zoom is kept
    view.fit()
    assert view.keep_fitted and _whole_film_in_view(view)
