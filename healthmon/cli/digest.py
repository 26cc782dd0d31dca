"""`healthmon digest`: each CSM's weekly summary from the Redis view, as markdown or incoming-webhook JSON."""

from __future__ import annotations

import click

from healthmon.cli.base import cli, settings_from_env

__all__ = ["digest"]


@cli.command()
@click.option("--csm", default=None,
              help="Only this customer-success manager: the profile's `csm` or its slug (the dashboard's `csm` "
                   "label, e.g. alice-smith); `none`: the accounts without a CSM.")
@click.option("--days", type=click.IntRange(1, 180), default=7, show_default=True,
              help="Event-time days covered, ending with the latest day the view has ended.")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True,
              help="markdown on stdout (for email tools), or one incoming-webhook JSON message per CSM a line.")
@click.option("--slack-webhook", "webhook", default=None, metavar="URL",
              help="Post one message per CSM to this Slack (or Mattermost) incoming webhook instead of printing.")
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Accounts listed under 'Moved down the most'.")
def digest(csm: str | None, days: int, fmt: str, webhook: str | None, top: int) -> None:
    """Per CSM: the accounts that moved down the most (with reasons), those at risk now, what recovered."""
    import orjson
    from redis.exceptions import RedisError

    from healthmon.digest import WebhookError, build_digests, post_webhook
    from healthmon.digest.render import render_markdown, slack_payload
    from healthmon.digest.view import read_view

    settings = settings_from_env()
    if not settings.redis.url:
        raise click.ClickException("the digest reads the Redis view: set REDIS_URL")
    if webhook is not None and not webhook.startswith(("https://", "http://")):
        raise click.BadParameter(f"{webhook!r} is no http(s) URL", param_hint="--slack-webhook")
    try:
        accounts = read_view(settings.redis, csm)
    except (RedisError, OSError) as exc:
        raise click.ClickException(f"cannot read the Redis view at {settings.redis.url}: {exc}") from None
    except ValueError as exc:
        raise click.ClickException(f"the Redis view holds a broken score history: {exc}") from None
    digests = build_digests(accounts, days, csm=csm, top=top)
    if webhook is not None:
        if not digests:
            raise click.ClickException("nothing to post: the view holds no scored account"
                                       + (f" of CSM {csm!r}" if csm else ""))
        for item in digests:
            try:
                tries = post_webhook(webhook, slack_payload(item))
            except WebhookError as exc:
                raise click.ClickException(f"posting the digest of {item.csm}: {exc}") from None
            click.echo(f"posted the digest of {item.csm}" + (f" ({tries} attempts)" if tries > 1 else ""), err=True)
        return
    if fmt == "json":
        for item in digests:
            click.echo(orjson.dumps(slack_payload(item)).decode())
    else:
        click.echo(render_markdown(digests), nl=False)
