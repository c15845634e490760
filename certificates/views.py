from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from certificates import services
from certificates.models import Certificate


def detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """The certificate, for anyone with its link; a hidden one only for its learner. A revoked one says so."""
    certificate = get_object_or_404(
        Certificate.objects.select_related("learner", "course", "revoked_by"), public_id=public_id
    )
    own = request.user.is_authenticated and request.user.pk == certificate.learner_id
    if certificate.hidden and not own:
        raise Http404
    url = request.build_absolute_uri(certificate.get_absolute_url())
    return render(request, "certificates/detail.html", {"certificate": certificate, "own": own, "url": url})


@require_POST
@login_required
def set_visibility(request: HttpRequest, public_id: str, hidden: bool) -> HttpResponse:
    """Hide the learner's own certificate from others, or show it again; someone else's is a 404."""
    certificate = get_object_or_404(Certificate, public_id=public_id, learner_id=request.user.pk)
    services.set_hidden(certificate, hidden=hidden)
    if hidden:
        message = _("Your certificate for %(course)s is hidden: only you can open it.")
    else:
        message = _("Your certificate for %(course)s can be opened by anyone with its link.")
    messages.success(request, message % {"course": certificate.course.title})
    return redirect("progress:me")
