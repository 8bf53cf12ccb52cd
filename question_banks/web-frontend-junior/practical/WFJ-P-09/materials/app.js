var input = document.getElementById('todo-input');
var addBtn = document.getElementById('add-btn');
var list = document.getElementById('todo-list');
var totalEl = document.getElementById('total');
var doneEl = document.getElementById('done-count');
var total = '0';
var doneCount = 0;

addBtn.addEventListener('click', function () {
  var text = input.value.trim();
  if (text = '') {
    alert('请输入待办事项');
    return;
  }
  var li = document.createElement('li');
  li.textContent = text;
  list.appendChild(li);
  total = total + 1;
  totalEl.textContent = total;
  input.value = '';
});

list.addEventListener('click', function (event) {
  if (event.target.tagName === 'li') {
    event.target.classList.toggle('done');
    doneCount = list.querySelectorAll('.done').length;
    doneEl.textContent = doneCount;
  }
});
