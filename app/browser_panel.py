"""The study browser: sites, subjects, visits in study order, images with each reader's read status."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from kyphoangle.vocabulary import VisitCode
from kyphoangle.workstation.records import ImageEntry

ENTRY_ROLE = Qt.ItemDataRole.UserRole
STATUS_TEXT = {"signed": "\u2714 signed", "draft": "\u270e draft"}


class StudyBrowserPanel(QWidget):
    """A tree of the catalogue; double-click (or Enter on) an image to open it."""

    image_activated = Signal(object)
    """The reader asked to open an image: its ImageEntry."""
    import_requested = Signal()
    """The reader pressed Import."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studyBrowserPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        buttons = QHBoxLayout()
        self.import_button = QPushButton("Import\u2026")
        self.import_button.setToolTip("Import DICOM files, a folder or a DICOMDIR (Ctrl+I)")
        self.import_button.clicked.connect(self.import_requested)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.tree = QTreeWidget()
        self.tree.setObjectName("studyTree")
        self.tree.setHeaderLabels(["Study", "Your read", "Other readers"])
        self.tree.itemActivated.connect(self._activated)
        layout.addWidget(self.tree)
        self.reader = ""

    def _activated(self, item: QTreeWidgetItem, column: int) -> None:
        entry = item.data(0, ENTRY_ROLE)
        if isinstance(entry, ImageEntry):
            self.image_activated.emit(entry)

    def show_images(self, images: Sequence[ImageEntry], reader: str, current_uid: str | None = None) -> None:
        """Rebuild the tree: site > subject > visit (D-8..D360 order) > image."""
        self.reader = reader
        self.tree.clear()
        sites: dict[str, dict[str, dict[str, list[ImageEntry]]]] = {}
        for entry in images:
            sites.setdefault(entry.site, {}).setdefault(entry.subject, {}).setdefault(entry.visit, []).append(
                entry
            )
        for site in sorted(sites):
            site_item = QTreeWidgetItem([site])
            self.tree.addTopLevelItem(site_item)
            for subject in sorted(sites[site]):
                subject_item = QTreeWidgetItem([subject])
                site_item.addChild(subject_item)
                visits = sites[site][subject]
                order = {label: VisitCode.sort_key(found[0].visit_code) for label, found in visits.items()}
                for visit in sorted(visits, key=order.__getitem__):
                    entries = sites[site][subject][visit]
                    visit_item = QTreeWidgetItem([visit])
                    subject_item.addChild(visit_item)
                    for index, entry in enumerate(entries, start=1):
                        own = entry.statuses.get(reader)
                        others = ", ".join(
                            f"{who}: {status}" for who, status in entry.statuses.items() if who != reader
                        )
                        item = QTreeWidgetItem(
                            [f"Image {index}", STATUS_TEXT.get(own or "", "not read"), others]
                        )
                        item.setData(0, ENTRY_ROLE, entry)
                        item.setToolTip(0, entry.path)
                        color = "#81c784" if own == "signed" else "#ffb74d" if own == "draft" else "#9e9e9e"
                        item.setForeground(1, QBrush(QColor(color)))
                        visit_item.addChild(item)
                        if entry.sop_instance_uid == current_uid:
                            self.tree.setCurrentItem(item)
        self.tree.expandAll()
        for column in range(self.tree.columnCount()):
            self.tree.resizeColumnToContents(column)
        for column in range(3):
            self.tree.resizeColumnToContents(column)

    def image_items(self) -> list[QTreeWidgetItem]:
        """Every image row (for tests and keyboard navigation)."""
        found: list[QTreeWidgetItem] = []

        def walk(item: QTreeWidgetItem) -> None:
            if isinstance(item.data(0, ENTRY_ROLE), ImageEntry):
                found.append(item)
            for index in range(item.childCount()):
                child = item.child(index)
                if child is not None:
                    walk(child)

        for index in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(index)
            if top is not None:
                walk(top)
        return found
