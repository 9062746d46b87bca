"""Turns through the Rasa server a few at a time (bot/rasa_plugins/turns.py): a customer waiting on the
action server (a slow shop API) holds up nobody, turns start in the order messages came, and one
customer's messages are handled one after the other."""

import asyncio

from bot.rasa_plugins.turns import TurnGate, waiting_outside


def test_a_turn_waiting_on_the_action_server_lets_the_next_customer_through() -> None:
    async def scenario() -> list[str]:
        gate, done = TurnGate(1), []
        shop_api = asyncio.Event()

        async def order_check() -> None:
            async with gate.turn("web:a"):
                await waiting_outside(shop_api.wait(), after_seconds=0.05)
                done.append("order")

        async def faq(sender: str) -> None:
            async with gate.turn(sender):
                done.append(sender)

        slow = asyncio.create_task(order_check())
        await asyncio.sleep(0)
        await asyncio.wait_for(asyncio.gather(faq("web:b"), faq("web:c")), timeout=2)
        shop_api.set()
        await slow
        return done

    assert asyncio.run(scenario()) == ["web:b", "web:c", "order"]


def test_turns_start_in_arrival_order_and_one_customers_messages_one_after_the_other() -> None:
    async def scenario() -> list[str]:
        gate, log = TurnGate(2), []

        async def message(sender: str, text: str) -> None:
            async with gate.turn(sender):
                log.append(f"{text} starts")
                await asyncio.sleep(0.01)
                log.append(f"{text} ends")

        await asyncio.gather(message("web:a", "a1"), message("web:a", "a2"), message("web:b", "b1"))
        return log

    log = asyncio.run(scenario())
    assert log.index("a1 ends") < log.index("a2 starts")
    assert log.index("b1 starts") < log.index("a2 starts")
