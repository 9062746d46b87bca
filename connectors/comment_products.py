"""The catalog's answer in the private reply to a comment under the page's posts (connectors/messenger_comments.py).

A comment is about the product it names ("nồi chiên 5L giá bn"), else about the one its post sells: the shop lists
its posts in facebook_posts.yml (``Settings.facebook_posts``: post id → the catalog's product id), read at every
comment so an edit needs no restart. Price and stock are read from the catalog when the reply is written, in a
worker thread, as the chat's product answers are (actions/product_answers.py); the words are
bot/catalog/answers.py's ``comment_answer``. When the catalog cannot answer, or the comment is about no product the
bot knows, there is no answer, and the reply invites the person to continue in Messenger.
"""

import asyncio
import logging
from functools import lru_cache
from pathlib import Path

import yaml

from bot.catalog.answers import comment_answer
from bot.catalog.backend import CatalogBackend, catalog_backend_for
from bot.catalog.matching import match_products, words
from bot.catalog.model import CatalogBackendError
from bot.catalog.questions import read_question
from bot.privacy import mask_id
from bot.settings import Settings, current_settings
from bot.text.lexicon import load_lexicon
from connectors.messenger_comments import Comment

logger = logging.getLogger(__name__)


def post_products(path: Path) -> dict[str, str]:
    """Post id → product id from the shop's list; empty when there is none, and when it cannot be read (logged:
    comments are still answered, by the product they name)."""
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as error:
        logger.warning("comments: %s cannot be read (%s); no post names a product", path, type(error).__name__)
        return {}
    posts = content.get("posts") if isinstance(content, dict) else None
    return {str(post): str(product) for post, product in posts.items() if product} if isinstance(posts, dict) else {}


@lru_cache(maxsize=4)
def _catalog(settings: Settings) -> CatalogBackend:
    return catalog_backend_for(settings)


@lru_cache(maxsize=4)
def _lexicon(directory: Path) -> dict[str, str]:
    return load_lexicon(directory)


def answer_now(settings: Settings, text: str, post_id: str) -> str | None:
    """The answer to ``text`` under ``post_id`` from the catalog as it is now; raises ``CatalogBackendError``."""
    lexicon = _lexicon(settings.data_dir / "lexicon")
    catalog = _catalog(settings).products()
    products = list(match_products(text, catalog, lexicon).products)
    if not products:
        sold = post_products(settings.facebook_posts).get(post_id)
        products = [product for product in catalog if product.id == sold]
    return comment_answer(products, read_question(words(text, lexicon)))


async def catalog_answer(comment: Comment) -> str | None:
    """``ProductAnswer`` for the comment replies: the catalog's, or None (the invitation) when it cannot answer."""
    settings = current_settings()
    try:
        return await asyncio.to_thread(answer_now, settings, comment.text, comment.post_id)
    except CatalogBackendError as error:
        logger.warning("comments: the catalog did not answer for comment %s (%s)", mask_id(comment.comment_id),
                       error)  # fmt: skip
        return None
