from django import template

from comments.selectors import Thread, author_name, lesson_thread

register = template.Library()


@register.simple_tag(takes_context=True)
def lesson_comments(context, lesson) -> Thread:
    """``{% lesson_comments lesson as thread %}``: the lesson's threads, in a fixed number of queries."""
    return lesson_thread(lesson=lesson, user=context["request"].user)


@register.filter
def comment_author(comment) -> str:
    return author_name(comment)
