"""The placement tool's state machine, fed plain events (no Qt)."""

from __future__ import annotations

from app.placement import Canceled, Deleted, Moved, Placed, PlacementTool, Previewed, Selected, ToolState


def make_tool(
    points: dict[str, tuple[float, float]], target: str | None = "T4.superior.posterior"
) -> PlacementTool:
    state = {"target": target}
    return PlacementTool(lambda: points, lambda: state["target"])


def test_place_with_adjustment_before_release() -> None:
    tool = make_tool({})
    assert tool.press((10.0, 10.0), 3.0) == [Previewed("T4.superior.posterior", (10.0, 10.0))]
    assert tool.state is ToolState.PLACING
    assert tool.move((11.0, 12.0)) == [Previewed("T4.superior.posterior", (11.0, 12.0))]
    assert tool.release((11.5, 12.5)) == [
        Placed("T4.superior.posterior", (11.5, 12.5), None),
        Selected("T4.superior.posterior"),
    ]
    assert tool.state is ToolState.IDLE


def test_press_on_point_drags_it_as_one_move() -> None:
    points = {"T4.superior.anterior": (50.0, 50.0)}
    tool = make_tool(points)
    assert tool.press((51.0, 50.0), 3.0) == [Selected("T4.superior.anterior")]
    assert tool.state is ToolState.DRAGGING
    tool.move((60.0, 55.0))
    tool.move((70.0, 58.0))
    assert tool.release((71.0, 59.0)) == [Moved("T4.superior.anterior", (50.0, 50.0), (71.0, 59.0))]


def test_click_without_moving_only_selects() -> None:
    tool = make_tool({"T4.superior.anterior": (50.0, 50.0)})
    tool.press((50.0, 50.0), 3.0)
    assert tool.release((50.0, 50.0)) == []
    assert tool.selected == "T4.superior.anterior"


def test_escape_cancels_then_clears_selection() -> None:
    tool = make_tool({"T4.superior.anterior": (50.0, 50.0)})
    tool.press((50.0, 50.0), 3.0)
    tool.move((80.0, 80.0))
    assert tool.cancel() == [Canceled("T4.superior.anterior")]
    assert tool.state is ToolState.IDLE
    assert tool.cancel() == [Selected(None)]
    assert tool.cancel() == []


def test_nudge_and_delete_the_selected_point() -> None:
    points = {"T4.superior.anterior": (50.0, 50.0)}
    tool = make_tool(points)
    assert tool.nudge((1.0, 0.0)) == []
    tool.select("T4.superior.anterior")
    assert tool.nudge((0.25, -0.125)) == [
        Moved("T4.superior.anterior", (50.0, 50.0), (50.25, 49.875), nudge=True)
    ]
    assert tool.delete() == [Deleted("T4.superior.anterior", (50.0, 50.0)), Selected(None)]


def test_nothing_to_place_deselects_and_disabled_tool_ignores_input() -> None:
    tool = make_tool({}, target=None)
    tool.select("x")
    assert tool.press((1.0, 1.0), 2.0) == [Selected(None)]
    tool.enabled = False
    assert tool.press((1.0, 1.0), 2.0) == []


def test_replace_reports_the_previous_position() -> None:
    points = {"T4.superior.posterior": (5.0, 5.0)}
    tool = make_tool(points, target="T4.superior.posterior")
    tool.press((40.0, 40.0), 2.0)
    assert tool.release((40.0, 40.0))[0] == Placed("T4.superior.posterior", (40.0, 40.0), (5.0, 5.0))


def test_nearest_point_wins() -> None:
    tool = make_tool({"a.b": (0.0, 0.0), "c.d": (2.0, 0.0)})
    assert tool.hit((1.5, 0.0), 3.0) == "c.d"
    assert tool.hit((10.0, 0.0), 3.0) is None
