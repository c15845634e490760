"""Every account page and message in Korean, checked for allauth's wrong or awkward Korean."""

import pytest
from allauth.account.models import EmailAddress

pytestmark = pytest.mark.django_db

KOREAN = {"HTTP_ACCEPT_LANGUAGE": "ko"}
# Each was on a page we show: a typo, "username" where there is none, "initialise" for reset,
# "e-mail account" for e-mail address, and the impolite "당신".
WRONG = ["올비르지", "아이디", "초기화", "이메일 계정", "당신", "님이 님"]


def test_account_pages_in_korean_have_none_of_the_wrong_strings(client, learner):
    """Regression: "올비르지 않은 토큰" and "아이디 저장" for "Remember me"."""
    anonymous_pages = {
        "/accounts/login/": "로그인 상태 유지",
        "/accounts/signup/": "회원가입",
        "/accounts/password/reset/": "재설정 메일 받기",
        "/accounts/password/reset/done/": "스팸 메일함",
        "/accounts/password/reset/key/1-set-password/": "사용할 수 없는 링크",
        "/accounts/confirm-email/": "링크 다시 보내기",
        "/accounts/confirm-email/not-a-key/": "이 링크는 만료되었거나 이미 사용되었습니다.",
        "/accounts/resend-confirmation/": "새 확인 링크 받기",
    }
    for url, expected in anonymous_pages.items():
        text = client.get(url, follow=True, **KOREAN).text
        assert expected in text, url
        assert not [wrong for wrong in WRONG if wrong in text], url

    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    client.force_login(learner)
    signed_in_pages = {
        "/accounts/email/": "인증됨",
        "/accounts/password/change/": "비밀번호 변경",
        "/accounts/settings/": "계정 설정",
        "/accounts/logout/": "로그아웃",
    }
    for url, expected in signed_in_pages.items():
        text = client.get(url, **KOREAN).text
        assert expected in text, url
        assert not [wrong for wrong in WRONG if wrong in text], url


def test_sign_in_message_in_korean_names_the_learner(client, learner):
    EmailAddress.objects.create(user=learner, email=learner.email, primary=True, verified=True)
    response = client.post(
        "/accounts/login/", {"login": learner.email, "password": "correct horse battery"}, follow=True, **KOREAN
    )
    assert f"{learner.email} 님으로 로그인했습니다." in response.text
