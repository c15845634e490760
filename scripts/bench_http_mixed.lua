-- The mixed loads of scripts/bench_http.py: signed-in learners reading lessons, with a share of writes.
--
--   wrk -t1 -c32 -d5s -s scripts/bench_http_mixed.lua http://127.0.0.1:PORT/ -- LEARNERS_FILE WRITE_EVERY SEED
--
-- LEARNERS_FILE has one learner a line: their session key, their CSRF secret (sent as the csrftoken cookie and
-- the X-CSRFToken header, as the page's script does), then the lessons they read as "id:path", the first
-- being the one they write on. A read is a random learner's GET of one of their lessons. Every WRITE_EVERY-th
-- request is a write instead, in turn a comment on the writer's lesson and marking it complete, or not complete
-- again; the writers of each kind are taken in turn, so that none comes near the rate limits. SEED differs from
-- run to run: a comment's submission key must be new, or the site answers with the comment already posted.

local learners = {}
local write_every = 0
local sent = 0
comments, toggles = 0, 0 -- globals: done() reads them from each thread
local next_commenter, next_toggler = 1, 1
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local fields = {}
    for item in line:gmatch("%S+") do
      fields[#fields + 1] = item
    end
    local learner = {
      cookie = "sessionid=" .. fields[1] .. "; csrftoken=" .. fields[2],
      csrf = fields[2],
      completed = false,
      lessons = {},
    }
    for i = 3, #fields do
      local id, path = fields[i]:match("^(%d+):(.+)$")
      learner.lessons[#learner.lessons + 1] = { id = id, path = path }
    end
    learners[#learners + 1] = learner
  end
  write_every = tonumber(args[2])
  math.randomseed(tonumber(args[3]))
end

local function submission_key()
  local parts = {}
  for i = 1, 8 do
    parts[i] = string.format("%04x", math.random(0, 0xffff))
  end
  return table.concat(parts)
end

local function post(learner, path, body)
  return wrk.format("POST", path, {
    ["Cookie"] = learner.cookie,
    ["X-CSRFToken"] = learner.csrf,
    ["Accept"] = "application/json",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function request()
  sent = sent + 1
  if write_every > 0 and sent % write_every == 0 then
    if (comments + toggles) % 2 == 0 then
      local learner = learners[next_commenter]
      next_commenter = next_commenter % #learners + 1
      comments = comments + 1
      local lesson = learner.lessons[1]
      local body = "body=A+comment+from+the+HTTP+bench%2C+number+" .. comments .. "&submission=" .. submission_key()
      return post(learner, "/comments/lessons/" .. lesson.id .. "/", body)
    end
    local learner = learners[next_toggler]
    next_toggler = next_toggler % #learners + 1
    toggles = toggles + 1
    local action = learner.completed and "uncomplete" or "complete"
    learner.completed = not learner.completed
    return post(learner, "/progress/lessons/" .. learner.lessons[1].id .. "/" .. action .. "/", "")
  end
  local learner = learners[math.random(#learners)]
  local lesson = learner.lessons[math.random(#learner.lessons)]
  return wrk.format("GET", lesson.path, { ["Cookie"] = learner.cookie })
end

function done(summary, latency, requests)
  local totals = { comments = 0, toggles = 0 }
  for _, thread in ipairs(threads) do
    totals.comments = totals.comments + thread:get("comments")
    totals.toggles = totals.toggles + thread:get("toggles")
  end
  io.write(string.format("bench comments=%d\nbench toggles=%d\n", totals.comments, totals.toggles))
end
