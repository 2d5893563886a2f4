"""/abo, /abo_ende, /abos: one entry point for every kind of subscription."""

from __future__ import annotations

from bot import subscription_kinds
from bot.args import Args
from bot.commands import command
from bot.context import Context
from bot.errors import PermissionDenied, UsageError, UserError
from bot.markup import Markup, join
from storage import subscriptions


def _kinds_list(ctx: Context) -> Markup:
    lines = [
        Markup("• <b>{}</b> – {}").format(subscription_kinds.typed_name(k, ctx.lang), ctx.t(k.help))
        for k in subscription_kinds.all_kinds()
    ]
    return join(lines) if lines else ctx.t("core.abo.no_kinds")


def _kind(ctx: Context, args: Args) -> subscription_kinds.SubscriptionKind:
    if not args.positional:
        raise UsageError("core.abo.which", kinds=_kinds_list(ctx))
    kind = subscription_kinds.lookup(args.positional[0])
    if kind is None:
        raise UsageError("core.abo.unknown_kind", kind=args.positional[0], kinds=_kinds_list(ctx))
    return kind


@command("abo", "subscribe", help="core.help.abo", usage="core.usage.abo", section="subscriptions")
async def abo(ctx: Context, args: Args) -> object:
    kind = _kind(ctx, args)
    if kind.private_only and ctx.is_group:
        raise UserError("core.abo.private_only")
    if ctx.is_group and not await ctx.is_admin():  # a group's subscriptions: admins only
        raise PermissionDenied("core.abo.group_admin_only")
    rest = Args(args.positional[1:], args.options, args.rest.partition(" ")[2].strip())
    return await kind.subscribe(ctx, rest)


@command(
    "abo_ende",
    "unsubscribe",
    help="core.help.abo_ende",
    usage="core.usage.abo_ende",
    section="subscriptions",
)
async def abo_ende(ctx: Context, args: Args) -> Markup:
    kind = _kind(ctx, args)
    if ctx.is_group and not await ctx.is_admin():
        raise PermissionDenied("core.abo.group_admin_only")
    with ctx.store.session() as session:
        removed = subscriptions.unsubscribe(session, ctx.chat, kind.kind, network_id=ctx.network_id)
    return ctx.t(
        "core.abo.ended" if removed else "core.abo.not_subscribed",
        kind=subscription_kinds.label(kind.kind, ctx.lang),
    )


@command("abos", "subscriptions", help="core.help.abos", section="subscriptions")
async def abos(ctx: Context, args: Args) -> Markup:
    with ctx.store.session() as session:
        rows = subscriptions.for_chat(session, ctx.chat, network_id=ctx.network_id)
    if not rows:
        return join([ctx.t("core.abo.none"), ctx.t("core.abo.available"), _kinds_list(ctx)])
    lines: list[Markup | str] = [ctx.t("core.abo.list_header")]
    for row in rows:
        kind = subscription_kinds.lookup(row.kind)
        name = subscription_kinds.label(row.kind, ctx.lang)
        detail = kind.describe(ctx, row) if kind and kind.describe else ""
        lines.append(Markup("• <b>{}</b> {}").format(name, detail))
    lines.append(ctx.t("core.abo.end_hint"))
    return join(lines)
