"""Channel-layer group names: tenant-prefixed and valid for the longest schema names."""

import uuid

from channels.layers import BaseChannelLayer

from core import realtime


def test_group_names_carry_the_schema_and_fit_the_channel_layer_limit():
    schema = "s" * 63  # the longest schema a tenant slug allows
    user_id = uuid.uuid4()
    names = [
        realtime.room_group(schema, 2**62),
        realtime.user_group(schema, user_id),
        realtime.presence_group(schema, str(user_id)),
        realtime.session_group(schema, user_id),
    ]
    layer = BaseChannelLayer()
    for name in names:
        assert name.startswith(f"{schema}.")
        assert layer.require_valid_group_name(name)
    assert realtime.user_group("alpha", user_id) != realtime.user_group("beta", user_id)
