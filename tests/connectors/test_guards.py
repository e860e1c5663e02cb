from connectors.guards import MAX_MESSAGE_CHARS, check_text


def test_incoming_text_is_masked_before_rasa_sees_it():
    incoming = check_text("  hồ sơ 000.00.20.H26-251103-0042, sđt 0912345678, cccd 001203004567 ")
    assert incoming.text == "hồ sơ 000.00.20.H26-251103-0042, sđt [phone], cccd [id]"


def test_long_text_is_cut_then_masked():
    incoming = check_text("a" * (MAX_MESSAGE_CHARS + 5) + " 0912345678")
    assert incoming.truncated and len(incoming.text) == MAX_MESSAGE_CHARS
