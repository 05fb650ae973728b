"""Dialogs: sign-in at start, password confirmation to sign, keyboard help, saving a window preset."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.shortcuts import SHORTCUTS, VIEW_KEYS
from kyphoangle.errors import KyphoangleError
from kyphoangle.workstation.records import Account, ReadService


class LoginDialog(QDialog):
    """Asks for a user name and password and checks them against the store."""

    def __init__(
        self, store: ReadService, *, last_user: str = "", hint: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("kyphoangle \u2014 sign in")
        self.store = store
        self.account: Account | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Sign in with your reader account."))
        if hint:
            hint_label = QLabel(hint)
            hint_label.setObjectName("loginHint")
            hint_label.setWordWrap(True)
            hint_label.setStyleSheet("color: #1565c0; font-weight: bold;")
            layout.addWidget(hint_label)
        form = QFormLayout()
        self.user_edit = QLineEdit(last_user)
        self.user_edit.setObjectName("loginUser")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("loginPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("User name:", self.user_edit)
        form.addRow("Password:", self.password_edit)
        layout.addLayout(form)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #e57373;")
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        (self.password_edit if last_user else self.user_edit).setFocus()

    def try_login(self) -> None:
        """Check the credentials; accept on success, else say why and stay open."""
        try:
            self.account = self.store.authenticate(self.user_edit.text().strip(), self.password_edit.text())
        except KyphoangleError as exc:
            self.error_label.setText(str(exc))
            self.password_edit.selectAll()
            self.password_edit.setFocus()
            return
        self.accept()


class SignDialog(QDialog):
    """Confirms a signature with the reader's password; the read is locked afterwards."""

    def __init__(self, reader: str, summary: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign read")
        layout = QVBoxLayout(self)
        text = QLabel(
            f"<b>Sign this read as {reader}?</b><br>{summary}<br><br>"
            "A signed read is locked: it can no longer be changed. Enter your password to confirm."
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("signPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(self.password_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign and lock")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @property
    def password(self) -> str:
        """The password typed."""
        return self.password_edit.text()


ACTION_COLUMN_PX = 340
"""Widest the shortcut table's Action column grows; longer texts wrap."""


class ShortcutsDialog(QDialog):
    """Lists every keyboard shortcut and mouse gesture (F1)."""

    def __init__(self, parent: QWidget | None = None, *, hidden: Collection[str] = ()) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts and mouse")
        self.resize(640, 640)
        layout = QVBoxLayout(self)
        rows = [(s.group, s.text, ", ".join(s.keys)) for s in SHORTCUTS if s.action not in hidden]
        rows += [("Film view", text, keys) for keys, text in VIEW_KEYS]
        self.table = QTableWidget(len(rows), 3)
        self.table.setObjectName("shortcutTable")
        self.table.setHorizontalHeaderLabels(["Group", "Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        # Long actions wrap onto a second line rather than widen the dialog past a small screen.
        self.table.setWordWrap(True)
        self.table.setColumnWidth(1, min(self.table.columnWidth(1), ACTION_COLUMN_PX))
        self.table.resizeRowsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._fit_to_table(parent, layout)

    def _fit_to_table(self, parent: QWidget | None, layout: QVBoxLayout) -> None:
        """As wide as every column (nothing cut), as tall as the rows, both within the screen."""
        table = self.table
        scroll = table.verticalScrollBar().sizeHint().width()
        columns = sum(table.columnWidth(c) for c in range(table.columnCount())) + 2 * table.frameWidth()
        margins = layout.contentsMargins()
        width = columns + scroll + margins.left() + margins.right() + 8
        rows = table.verticalHeader().length() + table.horizontalHeader().sizeHint().height()
        height = rows + 2 * table.frameWidth() + margins.top() + margins.bottom() + 60
        screen = (parent.screen() if parent is not None else None) or QGuiApplication.primaryScreen()
        limits = [screen.availableGeometry().size()] if screen is not None else []
        if parent is not None:
            limits.append(parent.window().size())  # within the workstation's window, on a small screen
        for limit in limits:
            width = min(width, int(limit.width() * 0.95))
            height = min(height, int(limit.height() * 0.9))
        self.resize(width, height)
        table.setMinimumWidth(min(columns + scroll, width))
