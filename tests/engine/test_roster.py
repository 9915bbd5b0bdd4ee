from engine import events as ev
from engine.conference_models import Denial, Membership, Role
from engine.roster import Roster

ME, LEADER, BOB, CAROL = "@me:hs", "@leader:hs", "@bob:hs", "@carol:hs"


def roster_with(levels: dict, users_default: int = 0) -> Roster:
    roster = Roster("!m:hs", ME)
    roster.apply_organizer(LEADER)
    roster.apply_power_levels(
        {
            "users": levels,
            "users_default": users_default,
            "invite": 50,
            "kick": 50,
            "events": {"m.room.power_levels": 50},
        }
    )
    for user in (ME, LEADER, BOB, CAROL):
        roster.apply_member(user, "join", user[1:].split(":")[0].title())
    return roster


def test_roles_follow_power_levels_and_organizer():
    roster = roster_with({LEADER: 100, ME: 50, BOB: 50})
    roles = {p.user_id: p.role for p in roster.participants()}
    assert roles == {
        ME: Role.PRESENTER,
        LEADER: Role.LEADER,
        BOB: Role.PRESENTER,
        CAROL: Role.ATTENDEE,
    }
    assert roster.get(ME).is_you


def test_membership_changes_are_incremental_events():
    roster = roster_with({LEADER: 100})
    assert roster.apply_member("@dan:hs", "knock", "Dan") == [
        ev.ParticipantAdded("!m:hs", roster.get("@dan:hs"))
    ]
    assert roster.get("@dan:hs").membership == Membership.KNOCKING
    [changed] = roster.apply_member("@dan:hs", "invite", "Dan")
    assert isinstance(changed, ev.ParticipantChanged)
    assert roster.apply_member("@dan:hs", "leave", "Dan") == [
        ev.ParticipantRemoved("!m:hs", "@dan:hs")
    ]
    assert roster.apply_member("@dan:hs", "leave", "Dan") == []
    assert roster.apply_member("@dan:hs", "bogus", "Dan") == []


def test_power_level_change_touches_only_those_it_concerns():
    roster = roster_with({LEADER: 100, ME: 50})
    changes = roster.apply_power_levels(
        {"users": {LEADER: 100, ME: 50, BOB: 50}, "invite": 50, "kick": 50}
    )
    assert [c.participant.user_id for c in changes] == [BOB]
    assert roster.get(BOB).role == Role.PRESENTER


def test_permissions_mirror_the_servers_rules():
    roster = roster_with({LEADER: 100, ME: 50, BOB: 50})
    attendee = roster.permissions(CAROL)
    assert attendee.can_make_presenter and attendee.can_remove and not attendee.can_make_attendee
    presenter = roster.permissions(BOB)
    assert not presenter.can_make_attendee and not presenter.can_remove
    assert presenter.denial is Denial.LEADER_ONLY
    leader = roster.permissions(LEADER)
    assert not leader.can_remove and leader.denial is Denial.LEADER_IS_FIXED
    assert not roster.permissions(ME).can_remove


def test_attendee_may_do_nothing():
    roster = roster_with({LEADER: 100})
    allowed = roster.permissions(BOB)
    assert not (allowed.can_make_presenter or allowed.can_make_attendee or allowed.can_remove)
    assert allowed.denial is Denial.PRESENTERS_ONLY
    assert not roster.can_admit()


def test_hostile_names_are_cleaned():
    roster = roster_with({LEADER: 100})
    roster.apply_member("@eve:hs", "join", "<b>Eve</b>\u202e\x00" + "x" * 500)
    name = roster.get("@eve:hs").display_name
    assert name.startswith("<b>Eve</b>x") and len(name) <= 80 and "\x00" not in name
