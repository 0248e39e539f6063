"""The scenarios of issue 3, one module each: send, fanout, boot, resume, idle.

Each exposes `async def run(ctx)`: it starts its servers (parlour and, where there is one,
its baseline), emits one record per measurement through ctx.reporter, and stops them.
"""
