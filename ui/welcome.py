"""The welcome window: the first-start choice, the sign-in forms, the busy page.

Nothing here talks to the engine: the pages only collect what the person
typed and emit it; the controller makes the engine calls and reports errors
back with ``show_error``.
"""

from __future__ import annotations

import enum
import getpass
import itertools
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.errors import (
    ConferoError,
    HomeserverUnreachable,
    InvalidHomeserverAddress,
    InvalidUserId,
    LoginFailed,
)
from engine.ids import validate_localpart
from ui import guest_text, theme
from ui.banner import Banner, BannerKind
from ui.form_widgets import (
    BusyIndicator,
    ErrorLabel,
    LinkButton,
    make_line_edit,
    make_remember_check,
)
from ui.guest_page import GuestJoinForm

if TYPE_CHECKING:
    from ui.lan_servers import LanServers

_PAGE_WIDTH = 440


def _heading(text: str, parent: QWidget, factor: float = 1.5) -> QLabel:
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setAccessibleName(text)
    theme.scale_font(label, factor, bold=True)
    return label


def _paragraph(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def _centred(page: QWidget) -> QVBoxLayout:
    """Give ``page`` a column of fixed maximum width, centred in the window."""
    column = QWidget(page)
    column.setMaximumWidth(_PAGE_WIDTH)
    inner = QVBoxLayout(column)
    inner.setContentsMargins(0, 0, 0, 0)
    inner.setSpacing(12)
    outer = QHBoxLayout()
    outer.addStretch(1)
    outer.addWidget(column, 100)
    outer.addStretch(1)
    wrapper = QVBoxLayout(page)
    wrapper.setContentsMargins(24, 24, 24, 24)
    wrapper.addStretch(1)
    wrapper.addLayout(outer)
    wrapper.addStretch(2)
    return inner


def default_local_user_name() -> str:
    """The OS account name, if it is also a valid Matrix user name."""
    try:
        return validate_localpart(getpass.getuser())
    except (ConferoError, OSError, KeyError):
        return ""


class ChoiceButton(QPushButton):
    """A large button with an icon, a bold title and a line of explanation."""

    def __init__(self, icon_name: str, title: str, description: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAccessibleName(title)
        self.setAccessibleDescription(description)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        icon = QLabel(self)
        icon.setPixmap(theme.icon(icon_name).pixmap(36, 36))
        heading = QLabel(title, self)
        heading.setTextFormat(Qt.TextFormat.PlainText)
        theme.scale_font(heading, 1.1, bold=True)
        text = QLabel(description, self)
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(heading)
        words.addWidget(text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(14)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(words, 1)
        for child in (icon, heading, text):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setMinimumHeight(layout.sizeHint().height() + 8)

    def sizeHint(self) -> QSize:
        hint = self.layout().sizeHint()
        return QSize(hint.width(), max(hint.height(), self.minimumHeight()))


class ChoicePage(QWidget):
    """First start: use this computer as the server, or sign in to one."""

    #: "Use this computer as the meeting server" was chosen.
    local_chosen = Signal()
    #: "Sign in to a server" was chosen.
    remote_chosen = Signal()
    #: "Join a meeting as a guest" was chosen.
    guest_chosen = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = _centred(self)

        logo = _logo(self)
        title = _heading("Welcome to Confero", self, 1.8)
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        intro = _paragraph("Chat and meet with your colleagues. How do you want to start?", self)
        intro.setAlignment(Qt.AlignmentFlag.AlignHCenter)

        self.local_button = ChoiceButton(
            "computer",
            "Use this computer as the meeting server",
            "Confero runs a private server here. You and your colleagues get accounts on it.",
            self,
        )
        self.local_button.setToolTip("Start Confero's own server on this computer")
        self.remote_button = ChoiceButton(
            "globe",
            "Sign in to a server",
            "Use an account you already have on your organisation's Matrix server.",
            self,
        )
        self.remote_button.setToolTip("Sign in with an existing Matrix account")
        self.guest_button = ChoiceButton(
            "conference", guest_text.GUEST_CHOICE_TITLE, guest_text.GUEST_CHOICE_TEXT, self
        )
        self.guest_button.setToolTip("Join with the guest link a host on your network sent you")

        column.addWidget(logo)
        column.addWidget(title)
        column.addWidget(intro)
        column.addSpacing(12)
        column.addWidget(self.local_button)
        column.addWidget(self.remote_button)
        column.addWidget(self.guest_button)
        self.setTabOrder(self.local_button, self.remote_button)
        self.setTabOrder(self.remote_button, self.guest_button)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.local_button.clicked.connect(self.local_chosen)
        self.remote_button.clicked.connect(self.remote_chosen)
        self.guest_button.clicked.connect(self.guest_chosen)


class BusyPage(QWidget):
    """Something slow is going on (starting the server, restoring a session)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = _centred(self)
        logo = _logo(self)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.label.setAccessibleName("Status")
        self._bar = QProgressBar(self)
        self._bar.setRange(0, 0)
        self._bar.setTextVisible(False)
        self._bar.setMaximumHeight(10)
        self._bar.setAccessibleName("Busy")
        column.addWidget(logo)
        column.addWidget(self.label)
        column.addWidget(self._bar)

    def set_text(self, text: str) -> None:
        self.label.setText(text)
        self.setAccessibleDescription(text)


class _FormPage(QWidget):
    """Shared behaviour: inline error, busy state, Enter submits."""

    #: The Back button was clicked.
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column = _centred(self)
        self.error_label = ErrorLabel(self)
        self.busy = BusyIndicator(self)
        self.back_button = QPushButton("Back", self)
        self.back_button.setAccessibleName("Back")
        self.back_button.setToolTip("Go back to the previous choice")
        self.submit_button = QPushButton(self)
        self.submit_button.setDefault(True)
        self._inputs: list[QWidget] = []

    def _finish_layout(self) -> None:
        self.column.addWidget(self.error_label)
        self.column.addWidget(self.busy)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)
        self.column.addLayout(buttons)
        self.back_button.clicked.connect(self.back_requested)
        self.submit_button.clicked.connect(self._on_submit)
        for widget in self._inputs:
            if isinstance(widget, QLineEdit):
                widget.returnPressed.connect(self._on_submit)

    def set_busy(self, busy: bool, text: str = "") -> None:
        """Disable the form and show the indicator while a request runs."""
        for widget in [*self._inputs, self.submit_button, self.back_button]:
            widget.setEnabled(not busy)
        if busy:
            self.error_label.clear_error()
            self.busy.start(text or "Please wait…")
        else:
            self.busy.stop()

    def is_busy(self) -> bool:
        return self.busy.isVisibleTo(self)

    def show_error(self, error: ConferoError | str) -> None:
        """Show an error inline (keeping what was typed) and focus the field at fault."""
        text = error.user_message if isinstance(error, ConferoError) else error
        self.set_busy(False)
        self.error_label.show_error(text)
        field = self._field_for(error)
        if field is not None:
            field.setFocus(Qt.FocusReason.OtherFocusReason)
            if isinstance(field, QLineEdit):
                field.selectAll()

    def clear_error(self) -> None:
        self.error_label.clear_error()

    def _field_for(self, error: ConferoError | str) -> QWidget | None:
        return None

    def _on_submit(self) -> None:
        raise NotImplementedError


class SignInPage(_FormPage):
    """Sign in to a Matrix server somewhere else."""

    #: Sign in was asked for: (address, user, password, keep signed in).
    sign_in_requested = Signal(str, str, str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.column.addWidget(_heading("Sign in to a server", self))
        self.column.addWidget(
            _paragraph("Enter the address of your organisation's server and your account.", self)
        )
        self.address_edit = make_line_edit(
            self,
            "Server address",
            placeholder="example.org",
            tooltip="The server's domain, such as example.org, or its full address",
        )
        self.user_edit = make_line_edit(
            self,
            "User name",
            placeholder="name or @name:example.org",
            tooltip="Your user name, or your full Matrix ID",
        )
        self.password_edit = make_line_edit(
            self, "Password", tooltip="Your account's password", password=True
        )
        self.remember_check = make_remember_check(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Server &address:", self.address_edit)
        form.addRow("&User name:", self.user_edit)
        form.addRow("&Password:", self.password_edit)
        form.addRow("", self.remember_check)
        self.column.addLayout(form)
        self.submit_button.setText("Sign in")
        self.submit_button.setAccessibleName("Sign in")
        self.submit_button.setToolTip("Sign in to the server (Enter)")
        self._inputs = [self.address_edit, self.user_edit, self.password_edit, self.remember_check]
        self._finish_layout()
        self.setTabOrder(self.address_edit, self.user_edit)
        self.setTabOrder(self.user_edit, self.password_edit)
        self.setTabOrder(self.password_edit, self.remember_check)
        self.setTabOrder(self.remember_check, self.submit_button)
        self.setTabOrder(self.submit_button, self.back_button)

    def prefill(self, address: str = "", user: str = "") -> None:
        if address and not self.address_edit.text():
            self.address_edit.setText(address)
        if user and not self.user_edit.text():
            self.user_edit.setText(user)

    def focus_first_empty(self) -> None:
        for edit in (self.address_edit, self.user_edit, self.password_edit):
            if not edit.text():
                edit.setFocus(Qt.FocusReason.OtherFocusReason)
                return
        self.submit_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _field_for(self, error: ConferoError | str) -> QWidget | None:
        if isinstance(error, InvalidHomeserverAddress | HomeserverUnreachable):
            return self.address_edit
        if isinstance(error, InvalidUserId):
            return self.user_edit
        if isinstance(error, LoginFailed):
            return self.password_edit
        return None

    def _on_submit(self) -> None:
        if self.is_busy():
            return
        address = self.address_edit.text().strip()
        user = self.user_edit.text().strip()
        password = self.password_edit.text()
        if not address:
            self._complain("Enter the server address, such as example.org.", self.address_edit)
        elif not user:
            self._complain("Enter your user name.", self.user_edit)
        elif not password:
            self._complain("Enter your password.", self.password_edit)
        else:
            self.clear_error()
            self.sign_in_requested.emit(address, user, password, self.remember_check.isChecked())

    def _complain(self, text: str, field: QLineEdit) -> None:
        self.error_label.show_error(text)
        field.setFocus(Qt.FocusReason.OtherFocusReason)


class LocalAccountMode(enum.Enum):
    CREATE = "create"
    SIGN_IN = "sign-in"


class LocalAccountPage(_FormPage):
    """Create (or sign in to) an account on the server running on this computer."""

    #: Create an account: (display name, user name, password, keep signed in).
    create_requested = Signal(str, str, str, bool)
    #: Sign in to an existing local account: (user name, password, keep signed in).
    sign_in_requested = Signal(str, str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mode = LocalAccountMode.CREATE
        self.heading = _heading("Create your account on this computer", self)
        self.intro = _paragraph("", self)
        self.column.addWidget(self.heading)
        self.column.addWidget(self.intro)

        self.display_name_edit = make_line_edit(
            self,
            "Display name",
            placeholder="Your name as colleagues will see it",
            tooltip="The name shown to the people you talk to",
        )
        self.user_edit = make_line_edit(
            self,
            "User name",
            placeholder="letters, digits and . _ -",
            tooltip="The name you sign in with; it becomes part of your Matrix ID",
        )
        self.user_edit.setText(default_local_user_name())
        self.password_edit = make_line_edit(
            self, "Password", tooltip="Choose a password for this account", password=True
        )
        self.confirm_edit = make_line_edit(
            self, "Confirm password", tooltip="Type the password again", password=True
        )
        self.remember_check = make_remember_check(self)
        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._form.addRow("&Display name:", self.display_name_edit)
        self._form.addRow("&User name:", self.user_edit)
        self._form.addRow("&Password:", self.password_edit)
        self._form.addRow("&Confirm password:", self.confirm_edit)
        self._form.addRow("", self.remember_check)
        self.column.addLayout(self._form)

        self.switch_button = LinkButton("", self)
        self.column.addWidget(self.switch_button, 0, Qt.AlignmentFlag.AlignLeft)

        self._inputs = [
            self.display_name_edit,
            self.user_edit,
            self.password_edit,
            self.confirm_edit,
            self.remember_check,
            self.switch_button,
        ]
        self._finish_layout()
        self.switch_button.clicked.connect(self._on_switch_clicked)
        self.set_mode(LocalAccountMode.CREATE)

    @property
    def mode(self) -> LocalAccountMode:
        return self._mode

    def set_mode(self, mode: LocalAccountMode, notice: str = "") -> None:
        """Switch between creating an account and signing in to an existing one."""
        self._mode = mode
        creating = mode is LocalAccountMode.CREATE
        self._form.setRowVisible(self.display_name_edit, creating)
        self._form.setRowVisible(self.confirm_edit, creating)
        if creating:
            self.heading.setText("Create your account on this computer")
            self.intro.setText(
                "This computer is now your meeting server. Create the account you will use "
                "on it; you can add accounts for colleagues later."
            )
            self.submit_button.setText("Create account")
            self.submit_button.setToolTip("Create the account and sign in (Enter)")
            self.switch_button.setText("I already have an account on this computer")
        else:
            self.heading.setText("Sign in on this computer")
            self.intro.setText("Sign in to your account on the meeting server of this computer.")
            self.submit_button.setText("Sign in")
            self.submit_button.setToolTip("Sign in (Enter)")
            self.switch_button.setText("Create a new account instead")
        self.heading.setAccessibleName(self.heading.text())
        self.submit_button.setAccessibleName(self.submit_button.text())
        self.switch_button.setAccessibleName(self.switch_button.text())
        if notice:
            self.error_label.show_error(notice)
        else:
            self.clear_error()
        self._update_tab_order()

    def offer_sign_in(self, message: str) -> None:
        """The account exists already: keep the name, ask for its password instead."""
        self.set_busy(False)
        self.set_mode(LocalAccountMode.SIGN_IN, message)
        self.confirm_edit.clear()
        self.password_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.password_edit.selectAll()

    def prefill(self, user: str = "") -> None:
        if user:
            self.user_edit.setText(user)

    def focus_first_empty(self) -> None:
        edits = [self.user_edit, self.password_edit]
        if self._mode is LocalAccountMode.CREATE:
            edits = [self.display_name_edit, self.user_edit, self.password_edit, self.confirm_edit]
        for edit in edits:
            if not edit.text():
                edit.setFocus(Qt.FocusReason.OtherFocusReason)
                return
        self.submit_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _update_tab_order(self) -> None:
        chain: list[QWidget] = []
        if self._mode is LocalAccountMode.CREATE:
            chain.append(self.display_name_edit)
        chain += [self.user_edit, self.password_edit]
        if self._mode is LocalAccountMode.CREATE:
            chain.append(self.confirm_edit)
        chain += [self.remember_check, self.submit_button, self.switch_button, self.back_button]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)

    def _field_for(self, error: ConferoError | str) -> QWidget | None:
        if isinstance(error, InvalidUserId):
            return self.user_edit
        if isinstance(error, LoginFailed):
            return self.password_edit
        return None

    def _on_switch_clicked(self) -> None:
        if self._mode is LocalAccountMode.CREATE:
            self.set_mode(LocalAccountMode.SIGN_IN)
        else:
            self.set_mode(LocalAccountMode.CREATE)
        self.focus_first_empty()

    def _on_submit(self) -> None:
        if self.is_busy():
            return
        user = self.user_edit.text().strip()
        password = self.password_edit.text()
        remember = self.remember_check.isChecked()
        if not user:
            self._complain("Enter a user name.", self.user_edit)
        elif not password:
            self._complain(
                "Choose a password."
                if self._mode is LocalAccountMode.CREATE
                else "Enter your password.",
                self.password_edit,
            )
        elif self._mode is LocalAccountMode.CREATE and password != self.confirm_edit.text():
            self._complain("The two passwords are not the same.", self.confirm_edit)
        elif self._mode is LocalAccountMode.CREATE:
            self.clear_error()
            display_name = self.display_name_edit.text().strip()
            self.create_requested.emit(display_name, user, password, remember)
        else:
            self.clear_error()
            self.sign_in_requested.emit(user, password, remember)

    def _complain(self, text: str, field: QLineEdit) -> None:
        self.error_label.show_error(text)
        field.setFocus(Qt.FocusReason.OtherFocusReason)


class GuestPage(QWidget):
    """Join a meeting on another computer with its guest link (the form, centred)."""

    def __init__(self, servers: LanServers | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = GuestJoinForm(servers, self)
        _centred(self).addWidget(self.form)


class WelcomePage(enum.Enum):
    CHOICE = 0
    BUSY = 1
    SIGN_IN = 2
    LOCAL_ACCOUNT = 3
    GUEST = 4


class WelcomeWindow(QWidget):
    """The window shown before anyone is signed in."""

    #: "Use this computer as the meeting server" was chosen.
    local_chosen = Signal()
    #: Remote sign-in asked for: (address, user, password, keep signed in).
    sign_in_requested = Signal(str, str, str, bool)
    #: Local account creation asked for: (display name, user, password, keep signed in).
    local_account_requested = Signal(str, str, str, bool)
    #: Local sign-in asked for: (user, password, keep signed in).
    local_sign_in_requested = Signal(str, str, bool)
    #: The local account form was left with Back.
    local_back_requested = Signal()
    #: Join as a guest asked for: (GuestLink, name).
    guest_join_requested = Signal(object, str)
    #: The banner's action button (e.g. "Try again") was clicked.
    banner_action_triggered = Signal()
    #: Ctrl+Q, or the window was closed.
    quit_requested = Signal()

    def __init__(self, parent: QWidget | None = None, *, servers: LanServers | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Confero")
        self.setWindowIcon(theme.app_icon())
        self.setObjectName("welcomeWindow")
        self.resize(640, 600)
        self.setMinimumSize(480, 460)

        self.banner = Banner(self)
        self.choice_page = ChoicePage(self)
        self.busy_page = BusyPage(self)
        self.sign_in_page = SignInPage(self)
        self.local_page = LocalAccountPage(self)
        self.guest_page = GuestPage(servers, self)
        self._stack = QStackedWidget(self)
        for page in (
            self.choice_page,
            self.busy_page,
            self.sign_in_page,
            self.local_page,
            self.guest_page,
        ):
            self._stack.addWidget(page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.banner)
        layout.addWidget(self._stack, 1)

        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcuts(theme.quit_shortcuts())
        self.quit_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(self.quit_action)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.choice_page.local_chosen.connect(self.local_chosen)
        self.choice_page.remote_chosen.connect(self._on_remote_chosen)
        self.sign_in_page.sign_in_requested.connect(self.sign_in_requested)
        self.sign_in_page.back_requested.connect(self._on_sign_in_back)
        self.local_page.create_requested.connect(self.local_account_requested)
        self.local_page.sign_in_requested.connect(self.local_sign_in_requested)
        self.local_page.back_requested.connect(self.local_back_requested)
        self.choice_page.guest_chosen.connect(lambda: self.show_guest())
        self.guest_page.form.join_requested.connect(self.guest_join_requested)
        self.guest_page.form.back_requested.connect(self._on_guest_back)
        self.banner.action_triggered.connect(self.banner_action_triggered)
        self.quit_action.triggered.connect(self.quit_requested)

    # -- pages ----------------------------------------------------------------

    def current_page(self) -> WelcomePage:
        return WelcomePage(self._stack.currentIndex())

    def show_choice(self) -> None:
        self._stack.setCurrentWidget(self.choice_page)
        self.choice_page.local_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_busy(self, text: str) -> None:
        self.busy_page.set_text(text)
        self._stack.setCurrentWidget(self.busy_page)

    def show_sign_in(self, address: str = "", user: str = "", error: str = "") -> None:
        page = self.sign_in_page
        page.set_busy(False)
        page.prefill(address, user)
        self._stack.setCurrentWidget(page)
        page.focus_first_empty()
        if error:
            page.show_error(error)

    def show_local_account(
        self,
        mode: LocalAccountMode = LocalAccountMode.CREATE,
        user: str = "",
        notice: str = "",
    ) -> None:
        page = self.local_page
        page.set_busy(False)
        page.prefill(user)
        page.set_mode(mode, notice)
        self._stack.setCurrentWidget(page)
        page.focus_first_empty()

    def show_guest(self, link: str = "", name: str = "", error: str = "") -> None:
        """Join a meeting as a guest: the link (if given) filled in, the name asked for."""
        form = self.guest_page.form
        form.set_busy(False)
        if link:
            form.set_link(link)
        form.set_name(name)
        self.clear_notice()
        self._stack.setCurrentWidget(self.guest_page)
        form.focus_first_empty()
        if error:
            form.show_error(error)

    def show_notice(
        self, text: str, kind: BannerKind = BannerKind.INFO, action_text: str | None = None
    ) -> None:
        self.banner.show_message(text, kind, action_text=action_text)

    def clear_notice(self) -> None:
        self.banner.clear()

    def reset_forms(self) -> None:
        """Forget passwords typed earlier (after sign-out)."""
        for edit in (
            self.sign_in_page.password_edit,
            self.local_page.password_edit,
            self.local_page.confirm_edit,
        ):
            edit.clear()
        self.sign_in_page.clear_error()
        self.local_page.clear_error()

    # -- internals ------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        event.accept()
        self.quit_requested.emit()

    def _on_remote_chosen(self) -> None:
        self.clear_notice()
        self.show_sign_in()

    def _on_guest_back(self) -> None:
        self.guest_page.form.error_label.clear_error()
        self.show_choice()

    def _on_sign_in_back(self) -> None:
        self.sign_in_page.clear_error()
        self.show_choice()


def _logo(parent: QWidget) -> QLabel:
    logo = QLabel(parent)
    logo.setPixmap(theme.app_icon().pixmap(72, 72))
    logo.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    logo.setAccessibleName("Confero logo")
    return logo
