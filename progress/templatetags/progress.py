from django import template

from progress.selectors import Panel, lesson_panel

register = template.Library()


@register.simple_tag(takes_context=True)
def learner_panel(context, lesson) -> Panel:
    """``{% learner_panel lesson as panel %}``: the lesson page's panel and completion state, in two queries."""
    return lesson_panel(lesson=lesson, user=context["request"].user)
